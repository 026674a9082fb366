"""Recovery in one step: find failed messages by reason, member and date, and queue all that match again.

After a long outage every letter of it may have failed; one Retry click per message does not scale. The
organizer's "Retry all that match" and `actiontool retry --campaign SLUG` call the same `retry_matching`:
one transaction, one UPDATE ... RETURNING, one audit row, and the roll-up counts moved in the same commit.
It is idempotent: a message it queued is no longer failed, so a second run (a double click) finds nothing.

Two kinds of failed message are never queued again, and are counted apart so the organizer sees why:
- purged ones: the constituent's personal data is gone, so a retry could only fail at once ("the
  constituent's e-mail address is missing");
- ones a channel accepted (`delivered_at` is set): sending again would deliver the letter twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Table,
    and_,
    exists,
    func,
    insert,
    literal,
    not_,
    select,
    update,
)
from sqlalchemy.orm import Session

from actiontool.models import FAILED, NEEDS_CONSTITUENT, PACKET, QUEUED, Action, Message, utcnow
from actiontool.services import counts, packet_counts
from actiontool.services.organizers import RETRY, audit
from actiontool.services.transaction import transaction

MAX_REASON = 200  # a reason filter is a piece of an error message, never a page of text
PURGED = "its personal data was purged, so it cannot be sent again"
ACCEPTED = "a channel has already accepted it, so sending it again would deliver it twice"
# Hand-off letters still waiting, by age: who may need a reminder.
AGE_BUCKETS: tuple[tuple[str, timedelta | None, timedelta | None], ...] = (
    ("under_1_day", None, timedelta(days=1)),
    ("1_to_7_days", timedelta(days=1), timedelta(days=7)),
    ("over_7_days", timedelta(days=7), None),
)


class InvalidRetryFilter(ValueError):
    """A filter value that cannot be used (a reason too long, a date in a wrong format).

    `field` names the filter (reason, member, since), so the web layer can say it in the reader's language.
    """

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class FailedFilter:
    """Which failed messages: a piece of the reason (case-insensitive), a member, failed on or after a day."""

    reason: str | None = None
    member: str | None = None  # bioguide id
    since: date | None = None

    @classmethod
    def parse(cls, reason: str | None, member: str | None, since: str | None) -> FailedFilter:
        """Return the filter from text (a form or the command line); raise InvalidRetryFilter."""
        reason = (reason or "").strip() or None
        if reason is not None and len(reason) > MAX_REASON:
            raise InvalidRetryFilter(f"the reason filter is longer than {MAX_REASON} characters", "reason")
        member = (member or "").strip().upper() or None
        if member is not None and (len(member) > 10 or not member.isalnum() or not member.isascii()):
            raise InvalidRetryFilter(f"not a member id (bioguide id, such as S000148): {member!r}", "member")
        day = None
        if since and since.strip():
            try:
                day = date.fromisoformat(since.strip())
            except ValueError:
                raise InvalidRetryFilter(f"not a date (YYYY-MM-DD): {since.strip()!r}", "since") from None
        return cls(reason, member, day)

    @property
    def active(self) -> bool:
        """Return True when any filter is set."""
        return bool(self.reason or self.member or self.since)


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    """What `retry_matching` did: queued again, and matching messages it refused (and why)."""

    retried: int
    purged: int
    accepted: int


def _failed(campaign: str, wanted: FailedFilter) -> list[ColumnElement[bool]]:
    """Return the conditions of the campaign's failed messages that match `wanted`."""
    where: list[ColumnElement[bool]] = [Message.campaign == campaign, Message.status == FAILED]
    if wanted.reason:
        where.append(func.lower(func.coalesce(Message.last_error, "")).contains(wanted.reason.lower(),
                                                                                 autoescape=True))
    if wanted.member:
        where.append(Message.bioguide == wanted.member)
    if wanted.since:
        where.append(Message.updated_at >= datetime.combine(wanted.since, time.min, tzinfo=UTC))
    return where


def _purged() -> ColumnElement[bool]:
    """Return the condition "this message's action has been purged"."""
    return exists().where(Action.id == Message.action_id, Action.purged_at.is_not(None))


def _accepted() -> ColumnElement[bool]:
    return Message.delivered_at.is_not(None)


def retryable() -> ColumnElement[bool]:
    """Return the condition of a failed message that may be sent again (not purged, never accepted)."""
    return and_(not_(_purged()), not_(_accepted()))


def refusal(session: Session, message: Message) -> str | None:
    """Return why this one message may not be retried, or None (the single Retry button's check)."""
    if message.delivered_at is not None:
        return ACCEPTED
    purged = session.execute(select(Action.purged_at).where(Action.id == message.action_id)
                             ).scalar_one_or_none()
    return PURGED if purged is not None else None


def count_matching(session: Session, campaign: str, wanted: FailedFilter) -> RetryOutcome:
    """Return how many matching failed messages a retry would queue, and how many it would refuse."""
    row = session.execute(
        select(func.count().filter(retryable()), func.count().filter(_purged()),
               func.count().filter(and_(_accepted(), not_(_purged()))))
        .select_from(Message).where(*_failed(campaign, wanted))).one()
    return RetryOutcome(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def retry_matching(session: Session, campaign: str, wanted: FailedFilter, *, actor: str,
                   ip: str | None = None, now: datetime | None = None) -> RetryOutcome:
    """Queue every matching failed message again with fresh attempts, in one transaction; audit it; commit.

    Purged messages and messages a channel accepted are left failed and counted in the outcome.
    Set-based (issue 15: 10,000 messages under 2 s): the moved messages' roll-up fields go to a temporary
    table inside the database, and every roll-up is moved from it by one grouped statement
    (`counts.move_statuses`), so the messages never travel to Python (packet letters aside).
    """
    now = now or utcnow()
    with transaction(session):
        _one_retry_at_a_time(session, campaign)
        moved = _move_to_queued(session, campaign, wanted, now)
        retried = counts.move_statuses(session, moved, FAILED, QUEUED)
        # A packet letter queued again waits for a packet again.
        packet_counts.record_new_messages(session, session.execute(
            select(*moved.c, literal(QUEUED).label("status")).where(moved.c.channel == PACKET)).all())
        # Counted after the move: what still matches and is failed is what was refused, and the count
        # reads those few rows, not the thousands just queued.
        refused = count_matching(session, campaign, wanted)
        outcome = RetryOutcome(retried, refused.purged, refused.accepted)
        audit(session, actor, RETRY, campaign=campaign, detail=_detail(wanted, outcome), ip=ip)
        if session.get_bind().dialect.name != "postgresql":
            _MOVED.drop(session.connection())  # PostgreSQL drops it at commit (ON COMMIT DROP)
    return outcome


# The messages one retry moved, with the fields the roll-ups and the packet counts are keyed by. It lives in
# the transaction only (a temporary table, dropped at its end), outside the models' metadata and migrations.
_MOVED_COLUMNS = ("id", "campaign", "bioguide", "created_day", "ref", "channel", "state", "district",
                  "chamber", "member_name", "packet_id", "action_id")
_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_MOVED = Table("retry_moved", MetaData(), *(Column(name, _MESSAGES.c[name].type) for name in _MOVED_COLUMNS),
               prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


def retry_lock_key(campaign: str) -> int:
    """Return the PostgreSQL advisory lock key that one campaign's retries take (a signed 64-bit number)."""
    digest = hashlib.blake2b(f"actiontool retry {campaign}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _one_retry_at_a_time(session: Session, campaign: str) -> None:
    """Wait for any other retry of this campaign to commit (PostgreSQL; SQLite's write lock already does).

    Two retries with overlapping filters would otherwise lock the same failed messages in whatever order
    each UPDATE meets them, and could deadlock: the organizer would see an error for a press of a button.
    Held to the end of the transaction; submits and workers never take it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(retry_lock_key(campaign))))


def _move_to_queued(session: Session, campaign: str, wanted: FailedFilter, now: datetime) -> Table:
    """Queue the matching retryable failed messages and fill the temporary table `_MOVED` with them.

    PostgreSQL: one statement, WITH moved AS (UPDATE ... RETURNING ...) INSERT INTO retry_moved, which also
    locks the messages (before any roll-up row, as every writer does). SQLite: the matching rows are read
    into the table, then updated by the same conditions: its write lock, taken at BEGIN, keeps anyone from
    changing a message in between, so both statements find the same rows (checked: their counts agree).
    Updating by the conditions walks the rows in table order; by id, in random order, it took twice the
    CPU time (the indexes of `status` are rewritten either way).
    """
    connection = session.connection()
    _MOVED.create(connection)
    matching = (*_failed(campaign, wanted), retryable())
    queued = {"status": QUEUED, "attempts": 0, "next_attempt_at": now, "lease_until": None, "updated_at": now}
    fields = [_MESSAGES.c[name] for name in _MOVED_COLUMNS]
    if connection.dialect.name == "postgresql":
        moved = update(_MESSAGES).where(*matching).values(queued).returning(*fields).cte("moved")
        session.execute(insert(_MOVED).from_select(_MOVED_COLUMNS, select(*moved.c)))
    else:
        read = session.execute(insert(_MOVED).from_select(_MOVED_COLUMNS, select(*fields).where(*matching)))
        updated = session.execute(update(_MESSAGES).where(*matching).values(queued))
        if updated.rowcount != read.rowcount:  # type: ignore[attr-defined]
            raise RuntimeError(f"retry: {read.rowcount} messages matched but {updated.rowcount} were queued")  # type: ignore[attr-defined]
    return _MOVED


def _detail(wanted: FailedFilter, outcome: RetryOutcome) -> str:
    """Return the audit row's text: what matched and what was done."""
    parts = [f"reason contains {wanted.reason!r}" if wanted.reason else "",
             f"member {wanted.member}" if wanted.member else "",
             f"failed since {wanted.since.isoformat()}" if wanted.since else ""]
    matched = ", ".join(p for p in parts if p) or "every failed message"
    return (f"retry all that match ({matched}): {outcome.retried} failed -> queued; "
            f"refused {outcome.purged} purged, {outcome.accepted} accepted by a channel")


def failed_messages(session: Session, campaign: str, wanted: FailedFilter, *, limit: int,
                    offset: int = 0) -> list[Any]:
    """Return a page of matching failed messages, newest failure first, each with `purged`."""
    return list(session.execute(
        select(Message, _purged().label("purged")).where(*_failed(campaign, wanted))
        .order_by(Message.updated_at.desc(), Message.id).limit(limit).offset(offset)).all())


def failed_reasons(session: Session, campaign: str, *, limit: int = 30) -> list[tuple[str, int]]:
    """Return the most frequent failure reasons of the campaign with their counts (for the filter)."""
    rows = session.execute(
        select(Message.last_error, func.count()).where(Message.campaign == campaign, Message.status == FAILED,
                                                       Message.last_error.is_not(None))
        .group_by(Message.last_error).order_by(func.count().desc(), Message.last_error).limit(limit)).all()
    return [(str(reason), int(n)) for reason, n in rows]


def failed_members(session: Session, campaign: str) -> list[tuple[str, str, int]]:
    """Return (bioguide, name, failed count) of every member with failed messages, by name."""
    rows = session.execute(
        select(Message.bioguide, func.max(Message.member_name), func.count())
        .where(Message.campaign == campaign, Message.status == FAILED)
        .group_by(Message.bioguide).order_by(func.max(Message.member_name), Message.bioguide)).all()
    return [(str(b), str(name), int(n)) for b, name, n in rows]


@dataclass(frozen=True, slots=True)
class WaitingAge:
    """Hand-off letters still waiting on their constituent, in one age bucket."""

    bucket: str
    letters: int
    people: int


def waiting_by_age(session: Session, campaign: str, *, now: datetime | None = None) -> list[WaitingAge]:
    """Return the hand-off letters still waiting by age (under 1 day, 1-7 days, over 7 days), purged left out.

    People counts actions: one constituent with three letters to send is one person to remind.
    """
    now = now or utcnow()
    columns = []
    for _name, older_than, younger_than in AGE_BUCKETS:
        conditions: list[ColumnElement[bool]] = []
        if older_than is not None:
            conditions.append(Message.created_at <= now - older_than)
        if younger_than is not None:
            conditions.append(Message.created_at > now - younger_than)
        bucket = and_(*conditions)
        columns += [func.count().filter(bucket), func.count(Message.action_id.distinct()).filter(bucket)]
    row = session.execute(select(*columns).where(
        Message.campaign == campaign, Message.status == NEEDS_CONSTITUENT, not_(_purged()))).one()
    return [WaitingAge(name, int(row[2 * i] or 0), int(row[2 * i + 1] or 0))
            for i, (name, _o, _y) in enumerate(AGE_BUCKETS)]

