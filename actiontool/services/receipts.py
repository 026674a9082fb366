"""Receipts: read a constituent's action by its unguessable token, and record a hand-off they made."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actiontool.models import HANDED_OFF, NEEDS_CONSTITUENT, Action, Message
from actiontool.services.outbox import set_status
from actiontool.services.transaction import transaction


class ReceiptNotFound(LookupError):
    """No action has this receipt token, or the message is not part of it."""


class NotHandOff(ValueError):
    """The message is not waiting for the constituent to send it themselves."""


def get_receipt(session: Session, token: str) -> Action:
    """Return the action whose receipt token is `token`, with its messages; raise ReceiptNotFound."""
    if not token or len(token) > 64:
        raise ReceiptNotFound(token)
    action = session.execute(
        select(Action).options(selectinload(Action.messages)).where(Action.receipt_token == token)
    ).scalar_one_or_none()
    if action is None:
        raise ReceiptNotFound(token)
    return action


def mark_handed_off(session: Session, token: str, message_id: str) -> Message:
    """Record that the constituent sent this hand-off message themselves, and commit.

    Saying so twice is harmless: a message already handed off is returned as it is.
    """
    message = session.execute(
        select(Message).join(Action, Message.action_id == Action.id)
        .where(Action.receipt_token == token, Message.id == message_id)
    ).scalar_one_or_none()
    if message is None:
        raise ReceiptNotFound(message_id)
    if message.status == HANDED_OFF:
        return message
    if message.status != NEEDS_CONSTITUENT:
        raise NotHandOff(message.status)
    with transaction(session):
        set_status(session, message, HANDED_OFF)
    return message
