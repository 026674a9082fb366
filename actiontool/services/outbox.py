"""Status changes of outbox messages. Every change goes through `set_status` so that counts stay exact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from actiontool.models import DELIVERED, HANDED_OFF, STATUSES, Message, utcnow
from actiontool.services import counts, packet_counts


class UnknownStatus(ValueError):
    """A status that is not one of models.STATUSES."""


def set_status(session: Session, message: Message, status: str, *, now: datetime | None = None,
               **fields: Any) -> None:
    """Move `message` to `status` (and set `fields`) within the caller's transaction."""
    if status not in STATUSES:
        raise UnknownStatus(status)
    now = now or utcnow()
    counts.record_status_change(session, message, status)  # keeps the roll-ups exact
    if not (inspect(message).transient or inspect(message).pending):
        # counts has just read the stored status into the object: the status this change starts from.
        packet_counts.record_status_change(session, message, message.status, status)
    message.status = status
    if status == DELIVERED and message.delivered_at is None:
        message.delivered_at = now
    if status == HANDED_OFF and message.handed_off_at is None:
        message.handed_off_at = now
    for name, value in fields.items():
        setattr(message, name, value)
    message.updated_at = now
    session.add(message)
