"""Receipts: read a constituent's action by its unguessable token, record (or undo) a hand-off they made,
and send the receipt link again to the address that wrote."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actiontool.models import DELIVERED, FAILED, HANDED_OFF, LEFT_OFFICE, NEEDS_CONSTITUENT, Action, Message
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


def _message_of(session: Session, token: str, message_id: str) -> Message:
    """Return the message `message_id` of the receipt `token`; raise ReceiptNotFound."""
    message = session.execute(
        select(Message).join(Action, Message.action_id == Action.id)
        .where(Action.receipt_token == token, Message.id == message_id)
    ).scalar_one_or_none()
    if message is None:
        raise ReceiptNotFound(message_id)
    return message


def mark_handed_off(session: Session, token: str, message_id: str) -> Message:
    """Record that the constituent sent this hand-off message themselves, and commit.

    Saying so twice is harmless: a message already handed off is returned as it is.
    """
    return _move_hand_off(session, token, message_id, NEEDS_CONSTITUENT, HANDED_OFF)


def undo_handed_off(session: Session, token: str, message_id: str) -> Message:
    """Take back an "I sent it": the message waits for the constituent again; commit.

    Only a hand-off the constituent recorded can be taken back; undoing twice is harmless.
    """
    return _move_hand_off(session, token, message_id, HANDED_OFF, NEEDS_CONSTITUENT, handed_off_at=None)


def _move_hand_off(session: Session, token: str, message_id: str, source: str, target: str,
                   **fields: Any) -> Message:
    """Move a receipt's message from `source` to `target` and commit; already at `target` is a no-op."""
    message = _message_of(session, token, message_id)
    if message.status == target:
        return message
    if message.status != source:
        raise NotHandOff(message.status)
    with transaction(session):
        set_status(session, message, target, **fields)
    return message


@dataclass(frozen=True)
class Progress:
    """How far a receipt's letters have got: sent (delivered or handed off) of all, and those left to you."""

    sent: int
    total: int  # the letters that can still reach an office: those to members who left office are apart
    waiting_on_you: int
    left_office: int = 0

    @property
    def done(self) -> bool:
        """Return True when every letter has reached its office (delivered, or sent by the constituent)."""
        return self.total > 0 and self.sent == self.total


def progress(messages: Sequence[Message]) -> Progress:
    """Return the progress of a receipt's messages."""
    kept = [m for m in messages if not is_left_office(m)]
    statuses = [m.status for m in kept]
    return Progress(sent=sum(s in (DELIVERED, HANDED_OFF) for s in statuses), total=len(statuses),
                    waiting_on_you=statuses.count(NEEDS_CONSTITUENT), left_office=len(messages) - len(kept))


def is_left_office(message: Message) -> bool:
    """Return True for a letter that ended unsent because its member had left office."""
    return message.status == FAILED and message.last_error == LEFT_OFFICE


def send_link_again(session: Session, campaign: str, email: str, base_url: str | None) -> bool:
    """Ask the worker to e-mail the receipt link again to `email`, the address that wrote; commit.

    Return False when no letter of `campaign` came from that address. The link goes only to the address
    stored with the action, so knowing someone's address reveals nothing; a request while an e-mail is
    already waiting to go changes nothing.
    """
    from actiontool.services.submit import constituent_key

    action = session.execute(
        select(Action).join(Message, Message.action_id == Action.id)
        .where(Message.campaign == campaign, Message.constituent_key == constituent_key(email),
               Action.purged_at.is_(None), Action.email.is_not(None))
        .order_by(Action.created_at).limit(1)
    ).scalar_one_or_none()
    if action is None:
        return False
    pending = action.wants_receipt_email and action.receipt_email_sent_at is None and \
        not action.receipt_email_attempts
    if pending:
        return True
    with transaction(session):
        action.wants_receipt_email = True
        action.receipt_email_sent_at = None
        action.receipt_email_attempts = 0
        action.receipt_email_next_at = None
        action.receipt_base_url = action.receipt_base_url or base_url
    return True
