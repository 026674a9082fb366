"""Submissions that looked automated: recorded apart from actions, counted for organizers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actiontool.models import BotSubmission, UsedFormToken, utcnow
from actiontool.services.transaction import transaction
from actiontool.timezones import DEFAULT_TIME_ZONE, local_day

REASONS: tuple[str, ...] = ("honeypot", "too_fast", "no_timestamp", "expired", "replayed")


@dataclass(frozen=True, slots=True)
class BotCount:
    """How many automated-looking submissions a campaign had on one day, for one reason."""

    day: date
    reason: str
    count: int


def record_bot_submission(session: Session, campaign: str, reason: str, *,
                          now: datetime | None = None, time_zone: str = DEFAULT_TIME_ZONE) -> None:
    """Record one automated-looking submission (and nothing about who sent it)."""
    if reason not in REASONS:
        raise ValueError(f"unknown bot reason {reason!r}")
    now = now or utcnow()
    with transaction(session):
        session.add(BotSubmission(campaign=campaign, day=local_day(now, time_zone), reason=reason,
                                  created_at=now))


def use_form_token(session: Session, nonce: str, *, expires_at: datetime,
                   now: datetime | None = None) -> bool:
    """Record a compose form's start token as used; return False when it was used before. Commits.

    The nonce is the primary key, so two concurrent submissions of one token cannot both pass. Tokens
    past their expiry are deleted on the way: an expired token is refused before it gets here.
    """
    now = now or utcnow()
    try:
        with transaction(session):
            session.execute(delete(UsedFormToken).where(UsedFormToken.expires_at < now))
            session.add(UsedFormToken(nonce=nonce[:32], expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def bot_counts(session: Session, campaign: str, date_from: date | None = None,
               date_to: date | None = None) -> list[BotCount]:
    """Return the campaign's automated-looking submissions by (local) day and reason, newest day first.

    Only a date range applies: a kept-out submission has no place, source or channel.
    """
    where = [BotSubmission.campaign == campaign]
    if date_from:
        where.append(BotSubmission.day >= date_from)
    if date_to:
        where.append(BotSubmission.day <= date_to)
    rows = session.execute(
        select(BotSubmission.day, BotSubmission.reason, func.count())
        .where(*where)
        .group_by(BotSubmission.day, BotSubmission.reason)
        .order_by(BotSubmission.day.desc(), BotSubmission.reason)
    ).all()
    return [BotCount(day=d, reason=r, count=int(n)) for d, r, n in rows]


def bot_total(session: Session, campaign: str) -> int:
    """Return how many submissions of the campaign were kept out of the counts as automated."""
    return int(session.execute(
        select(func.count()).select_from(BotSubmission).where(BotSubmission.campaign == campaign)
    ).scalar_one())
