"""Submit a constituent's action: one Action and one Message per member, in one transaction (the outbox).

A repeat submission (same campaign, same e-mail, same member) cannot insert a second message: the
unique constraint `uq_messages_once` refuses it and the INSERT ... ON CONFLICT DO NOTHING skips the row.
When nothing new was inserted the transaction rolls back and the existing receipt is returned.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# The values a submit writes are composed in the pure core; they are re-exported here for callers.
from actiontool.compose import ConstituentDetails as ConstituentDetails
from actiontool.compose import OutgoingMessage, Submission
from actiontool.models import NEEDS_CONSTITUENT, QUEUED, Action, Message, new_message_id, utcnow
from actiontool.services.transaction import transaction

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
    return raw if REF_RE.match(raw) else None


def constituent_key(email: str) -> str:
    """Return the de-duplication key of an e-mail address: sha256 of it stripped and lowercased."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def initial_status(channel: str) -> str:
    """Return a new message's status: hand-off waits for the constituent; other channels are queued."""
    return NEEDS_CONSTITUENT if channel == "handoff" else QUEUED


def _insert(session: Session) -> Insert:
    """Return the dialect's INSERT for messages (SQLite and PostgreSQL both know ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Message).on_conflict_do_nothing(
            index_elements=["campaign", "constituent_key", "bioguide"])
    if dialect == "sqlite":
        return sqlite.insert(Message).on_conflict_do_nothing(
            index_elements=["campaign", "constituent_key", "bioguide"])
    raise NotImplementedError(f"submit needs SQLite or PostgreSQL, not {dialect}")


def submit(session: Session, submission: Submission, *, now: datetime | None = None) -> SubmitResult:
    """Write the action and its messages in one transaction; return the (new or existing) receipt."""
    if not submission.messages:
        raise NothingToSend(submission.campaign)
    now = now or utcnow()
    key = constituent_key(submission.constituent.email)
    details = submission.constituent
    action = Action(
        receipt_token=secrets.token_urlsafe(32),
        campaign=submission.campaign,
        created_at=now,
        created_day=now.date(),
        ref=submission.ref,
        lang=submission.lang,
        district_label=submission.district_label,
        state=submission.state,
        prefix=details.prefix or None,
        first_name=details.first_name,
        last_name=details.last_name,
        email=details.email.strip(),
        address1=details.address1,
        city=details.city,
        zip=details.zip,
        phone=details.phone or None,
        personal_message=submission.constituent_text or None,
        wants_receipt_email=submission.wants_receipt_email,
        receipt_base_url=submission.receipt_base_url,
    )
    with transaction(session):
        session.add(action)
        session.flush()  # assigns action.id inside the transaction
        rows = [_message_row(action, m, key, submission, now) for m in submission.messages]
        # One executemany with RETURNING: its compiled form is cached, unlike a multi-row VALUES.
        inserted = session.execute(_insert(session).returning(*Message.__table__.c), rows).all()
        if not inserted:
            session.rollback()  # sent already: drop this action, answer with the first one's receipt
            return SubmitResult(existing_receipt(session, submission.campaign, key,
                                                 [m.bioguide for m in submission.messages]), created=False)
        _after_insert(session, action, inserted)
    return SubmitResult(action.receipt_token, created=True)


def _after_insert(session: Session, action: Action, inserted: Sequence[Any]) -> None:
    """Let the roll-up counts see what was written, in the same transaction."""
    from actiontool.services import counts, packet_counts

    counts.record_new_action(session, action)
    counts.record_new_messages(session, inserted)
    packet_counts.record_new_messages(session, inserted)


def _message_row(action: Action, message: OutgoingMessage, key: str, submission: Submission,
                 now: datetime) -> dict[str, Any]:
    status = initial_status(message.channel)
    return {
        "id": new_message_id(),
        "action_id": action.id,
        "campaign": submission.campaign,
        "constituent_key": key,
        "bioguide": message.bioguide,
        "member_name": message.member_name,
        "member_title": message.member_title,
        "chamber": message.chamber,
        "state": message.state,
        "district": message.district,
        "ref": submission.ref,
        "channel": message.channel,
        "status": status,
        "subject": message.subject,
        "suggested_text": message.suggested_text,
        "constituent_text": submission.constituent_text or None,
        "edited": message.edited,
        "attempts": 0,
        "next_attempt_at": now if status == QUEUED else None,
        "created_at": now,
        "created_day": now.date(),
        "updated_at": now,
    }


def existing_receipt(session: Session, campaign: str, key: str, bioguides: Sequence[str]) -> str:
    """Return the receipt token of the earlier action that already wrote to one of these members."""
    token = session.execute(
        select(Action.receipt_token)
        .join(Message, Message.action_id == Action.id)
        .where(Message.campaign == campaign, Message.constituent_key == key, Message.bioguide.in_(bioguides))
        .order_by(Action.created_at)
        .limit(1)
    ).scalar_one()
    return token
