"""Purge constituents' personal data once it has done its job, keeping every count exact.

Every action older than the cut-off (ACTIONTOOL_RETENTION_DAYS, 30 by default) is purged whatever its
messages' statuses: a hand-off letter still waiting after that long is past use, and a message still
queued is failed by the worker when it next comes up, since its sender's details are gone. Purging clears the
name, e-mail, address, phone and the constituent's own words (and the letter text, which greets the
member in the constituent's name); it keeps the action and message rows, their statuses, districts,
sources and the de-duplication key, so every count and the "already sent" check stay as they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from actiontool.models import Action, AuditEvent, Message, utcnow
from actiontool.services.transaction import transaction

# Cleared on the action; everything else on it is needed for counts and receipts.
PERSONAL_ACTION_FIELDS: tuple[str, ...] = (
    "prefix", "first_name", "last_name", "email", "address1", "city", "zip", "phone", "personal_message",
)
# Cleared on each message: the constituent's words, and the letter rendered with their name and city.
PERSONAL_MESSAGE_FIELDS: tuple[str, ...] = ("constituent_text", "suggested_text")

_BATCH = 500  # actions per transaction: short write locks on SQLite while the site keeps taking submits
_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


class InvalidDuration(ValueError):
    """A duration that is not a whole number of hours, days or weeks, e.g. 30d."""


@dataclass(frozen=True)
class PurgeResult:
    """How many actions and messages lost their personal data."""

    actions: int
    messages: int


def parse_duration(text: str) -> timedelta:
    """Parse `12h`, `30d` or `2w` into a timedelta, or raise InvalidDuration."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidDuration(f"{text!r} is not a duration like 12h, 30d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def purgeable(cutoff: datetime) -> ColumnElement[bool]:
    """Return the condition for actions whose personal data must go: older than `cutoff`, not yet purged."""
    return and_(Action.created_at < cutoff, Action.purged_at.is_(None))


def purge_personal_data(session: Session, older_than: timedelta, *, now: datetime | None = None,
                        dry_run: bool = False, actor: str = "cli") -> PurgeResult:
    """Clear personal data of every action older than `older_than`; commit in batches."""
    now = now or utcnow()
    condition = purgeable(now - older_than)
    if dry_run:
        ids = session.execute(select(Action.id).where(condition)).scalars().all()
        count = session.execute(
            select(Message.id).where(Message.action_id.in_(ids))).scalars().all() if ids else []
        session.rollback()
        return PurgeResult(actions=len(ids), messages=len(count))
    actions = messages = 0
    while True:
        ids = session.execute(select(Action.id).where(condition).order_by(Action.id).limit(_BATCH)
                              ).scalars().all()
        if not ids:
            break
        with transaction(session):
            session.execute(update(Action).where(Action.id.in_(ids)).values(
                purged_at=now, **{name: None for name in PERSONAL_ACTION_FIELDS}))
            result = session.execute(update(Message).where(Message.action_id.in_(ids)).values(
                **{name: None for name in PERSONAL_MESSAGE_FIELDS}))
        actions += len(ids)
        messages += result.rowcount or 0  # type: ignore[attr-defined]
    with transaction(session):
        session.add(AuditEvent(actor=actor, kind="purge", at=now,
                               detail=f"older than {older_than}: {actions} actions, {messages} messages"))
    return PurgeResult(actions=actions, messages=messages)
