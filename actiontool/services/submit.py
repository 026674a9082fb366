"""Submit a constituent's action: one Action and one Message per member, in one transaction (the outbox).

A repeat submission (same campaign, same e-mail, same member) cannot insert a second message: the
unique constraint `uq_messages_once` refuses it and the INSERT ... ON CONFLICT DO NOTHING skips the row.
When nothing new was inserted the transaction rolls back and the existing receipt is returned.

The e-mail address is not verified, so it alone must not decide that a letter was "already sent":
whoever wrote first with another person's address would silence that person. A repeat is therefore
dropped only when it is the same person (same e-mail, and the same name and street address, compared
case- and space-insensitively). When the e-mail already wrote to one of these members under another
name or street address, the new action is written under its own key (the e-mail's key and a digest of
the name and address) and marked `flagged_repeat`, which organizers see counted apart.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from actiontool.addresses import InvalidEmail, email_key_text, normalise_email

# The values a submit writes are composed in the pure core; they are re-exported here for callers.
from actiontool.compose import ConstituentDetails as ConstituentDetails
from actiontool.compose import OutgoingMessage, Submission
from actiontool.models import NEEDS_CONSTITUENT, QUEUED, Action, Message, new_message_id, utcnow
from actiontool.services.transaction import transaction
from actiontool.timezones import DEFAULT_TIME_ZONE, local_day

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
ACTIONS: Table = Action.__table__  # type: ignore[assignment]
REF_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SubmitError(Exception):
    """Base class of the submit use case's domain errors."""


class NothingToSend(SubmitError):
    """No target member holds a seat (every target seat is vacant)."""


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The receipt to show, and whether this submit wrote anything."""

    receipt_token: str
    created: bool


def clean_ref(raw: str | None) -> str | None:
    """Return a valid ?ref= source code, or None for anything else (it is then ignored)."""
    if raw is None:
        return None
    raw = raw.strip()
    # Lower case: `Ohio-Parents` and `ohio-parents` are one source (migration 0009 merged older ones).
    return raw.lower() if REF_RE.match(raw) else None


def constituent_key(email: str) -> str:
    """Return the de-duplication key of an e-mail address: sha256 of its canonical form, lower-cased.

    Unicode variants of one address (NFC/NFD, a domain in Unicode or in IDNA) give one key.
    """
    return hashlib.sha256(email_key_text(email).encode("utf-8")).hexdigest()


def _stored_email(email: str) -> str:
    """Return the address as stored: its canonical form (the form checks it; other callers may not)."""
    try:
        return normalise_email(email)
    except InvalidEmail:
        return email.strip()


def normalised_identity(first_name: str | None, last_name: str | None, address1: str | None,
                        city: str | None, zip_code: str | None) -> str:
    """Return the name and street address that tell two writers of one e-mail apart, case-folded."""
    parts = (first_name, last_name, address1, city, zip_code)
    return "\n".join(" ".join((part or "").split()).casefold() for part in parts)


def repeat_key(email: str, identity: str) -> str:
    """Return a flagged repeat's de-duplication key: the e-mail's key joined with name and address."""
    return hashlib.sha256(f"{constituent_key(email)}\n{identity}".encode()).hexdigest()


def message_keys(session: Session, submission: Submission, key: str, identity_key: str) -> dict[str, str]:
    """Return each target member's de-duplication key: the e-mail's, or the flagged repeat's.

    A member this e-mail already wrote to under another name or street address gets the repeat key
    (`identity_key`), so the new letter is written rather than dropped.
    """
    bioguides = [m.bioguide for m in submission.messages]
    earlier = session.execute(_EARLIER, {"campaign": submission.campaign, "key": key, "bioguides": bioguides}
                              ).all()
    other = {row.bioguide for row in earlier if _earlier_identity_key(row, submission) != identity_key}
    return {bioguide: identity_key if bioguide in other else key for bioguide in bioguides}


# Built once with bound parameters (Core columns, not ORM attributes): building the statement per submit,
# and the ORM's compile step, cost more than running it.
_EARLIER = (
    select(MESSAGES.c.bioguide, ACTIONS.c.identity_key, ACTIONS.c.purged_at, ACTIONS.c.first_name,
           ACTIONS.c.last_name, ACTIONS.c.address1, ACTIONS.c.city, ACTIONS.c.zip)
    .join_from(MESSAGES, ACTIONS, MESSAGES.c.action_id == ACTIONS.c.id)
    .where(MESSAGES.c.campaign == bindparam("campaign"), MESSAGES.c.constituent_key == bindparam("key"),
           MESSAGES.c.bioguide.in_(bindparam("bioguides", expanding=True)))
)


def _earlier_identity_key(row: Any, submission: Submission) -> str:
    """Return an earlier action's identity key; one made before 0004 and since purged counts as the same."""
    if row.identity_key is not None:
        return str(row.identity_key)
    email = submission.constituent.email
    if row.purged_at is not None:  # nothing left to compare: drop the repeat as before 0004
        return repeat_key(email, normalised_identity(*_identity_parts(submission.constituent)))
    earlier = normalised_identity(row.first_name, row.last_name, row.address1, row.city, row.zip)
    return repeat_key(email, earlier)


def _identity_parts(details: ConstituentDetails) -> tuple[str, str, str, str, str]:
    """Return the details that make up a writer's identity, in normalised_identity's order."""
    return details.first_name, details.last_name, details.address1, details.city, details.zip


def initial_status(channel: str) -> str:
    """Return a new message's status: hand-off waits for the constituent; other channels are queued."""
    return NEEDS_CONSTITUENT if channel == "handoff" else QUEUED


@lru_cache(maxsize=4)
def _message_insert(dialect: str) -> Insert:
    """Return the dialect's INSERT ... ON CONFLICT DO NOTHING RETURNING of messages, built once.

    On the Core table, not the ORM entity: the ORM's bulk-insert path cost more CPU than the statement.
    """
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"submit needs SQLite or PostgreSQL, not {dialect}")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(MESSAGES).on_conflict_do_nothing(index_elements=["campaign", "constituent_key", "bioguide"])
    return stmt.returning(*MESSAGES.c)


def submit(session: Session, submission: Submission, *, now: datetime | None = None,
           time_zone: str = DEFAULT_TIME_ZONE) -> SubmitResult:
    """Write the action and its messages in one transaction; return the (new or existing) receipt.

    `time_zone` is the campaign's (registry.time_zone_of): the action counts under its local day and hour.
    """
    if not submission.messages:
        raise NothingToSend(submission.campaign)
    now = now or utcnow()
    day = local_day(now, time_zone)
    key = constituent_key(submission.constituent.email)
    details = submission.constituent
    identity_key = repeat_key(details.email, normalised_identity(*_identity_parts(details)))
    # The action as a plain row, inserted with Core: the ORM's unit of work (flush, identity map, the
    # object's instrumented attributes) cost more CPU than the INSERT. The roll-ups read the same mapping.
    action: dict[str, Any] = {
        "receipt_token": secrets.token_urlsafe(32),
        "campaign": submission.campaign,
        "created_at": now,
        "created_day": day,
        "ref": submission.ref.lower() if submission.ref else None,
        "lang": submission.lang,
        "district_label": submission.district_label,
        "district_basis": submission.district_basis,
        "state": submission.state,
        "prefix": details.prefix or None,
        "first_name": details.first_name,
        "last_name": details.last_name,
        "email": _stored_email(details.email),
        "address1": details.address1,
        "city": details.city,
        "zip": details.zip,
        "phone": details.phone or None,
        "personal_message": submission.constituent_text or None,
        "wants_receipt_email": submission.wants_receipt_email,
        "receipt_base_url": submission.receipt_base_url,
        "identity_key": identity_key,
    }
    with transaction(session):
        keys = message_keys(session, submission, key, identity_key)
        action["flagged_repeat"] = any(k != key for k in keys.values())
        action["id"] = session.execute(_ACTION_INSERT, action).scalar_one()
        rows = [_message_row(action, m, keys[m.bioguide], submission, now, day) for m in submission.messages]
        # One executemany with RETURNING, which SQLAlchemy sends as one multi-row INSERT.
        inserted = session.execute(_message_insert(session.get_bind().dialect.name), rows).all()
        if not inserted:
            session.rollback()  # sent already: drop this action, answer with the first one's receipt
            return SubmitResult(existing_receipt(session, submission.campaign, keys), created=False)
        _after_insert(session, action, inserted, now, time_zone)
    return SubmitResult(action["receipt_token"], created=True)


_ACTION_INSERT = ACTIONS.insert().returning(ACTIONS.c.id)


def _after_insert(session: Session, action: Mapping[str, Any], inserted: Sequence[Any], now: datetime,
                  time_zone: str) -> None:
    """Let the roll-up counts see what was written (action, letters, local hour), in the same transaction."""
    from actiontool.services import counts, packet_counts

    counts.record_submit(session, action, inserted, at=now, time_zone=time_zone)
    packet_counts.record_new_messages(session, inserted, action)


def _message_row(action: Mapping[str, Any], message: OutgoingMessage, key: str, submission: Submission,
                 now: datetime, day: date) -> dict[str, Any]:
    status = initial_status(message.channel)
    return {
        "id": new_message_id(),
        "action_id": action["id"],
        "campaign": submission.campaign,
        "constituent_key": key,
        "bioguide": message.bioguide,
        "member_name": message.member_name,
        "member_title": message.member_title,
        "chamber": message.chamber,
        "state": message.state,
        "district": message.district,
        "ref": action["ref"],
        "channel": message.channel,
        "status": status,
        "subject": message.subject,
        "suggested_text": message.suggested_text,
        "constituent_text": submission.constituent_text or None,
        "edited": message.edited,
        "attempts": 0,
        "next_attempt_at": now if status == QUEUED else None,
        "created_at": now,
        "created_day": day,
        "updated_at": now,
    }


def existing_receipt(session: Session, campaign: str, keys: dict[str, str]) -> str:
    """Return the receipt token of the earlier action that wrote to one of these members under these keys.

    `keys` maps each member to the key this submit used for it, so a flagged repeat is answered with its
    own earlier receipt, never with the receipt of the e-mail's other writer.
    """
    rows = session.execute(
        select(Action.receipt_token, Message.constituent_key, Message.bioguide)
        .join(Message, Message.action_id == Action.id)
        .where(Message.campaign == campaign, Message.constituent_key.in_(sorted(set(keys.values()))),
               Message.bioguide.in_(list(keys)))
        .order_by(Action.created_at, Action.id)
    ).all()
    return next(row.receipt_token for row in rows if keys[row.bioguide] == row.constituent_key)
