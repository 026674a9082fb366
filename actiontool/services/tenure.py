"""End the letters still waiting for a member who has left office, whatever their channel.

The worker checks each letter it claims, but some letters are never claimed: hand-off letters wait for the
constituent (`needs_constituent`) and packet letters for the organization (`queued`, in no packet). The
worker runs `end_letters_to_departed` whenever its roster changes (at start, then daily), so those end
`failed` with the reason models.LEFT_OFFICE too: the receipt stops asking anyone to carry them. Letters
already frozen into a packet are left to the organization, which holds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from actiontool.districts.tenure import Roster
from actiontool.models import FAILED, LEFT_OFFICE, NEEDS_CONSTITUENT, PACKET, QUEUED, Message, utcnow
from actiontool.services import counts
from actiontool.services.outbox import set_status

BATCH = 500  # letters per transaction: short write locks while the site keeps taking submits


def _members_with_waiting_letters(session: Session) -> list[str]:
    """Return the members who have hand-off or packet letters waiting, from the roll-up (not the letters)."""
    t = counts.MEMBER_COUNTS.c
    # Summed over slots: one slot's row alone may hold a move whose insert another slot counted.
    waiting = func.sum(t.needs_constituent) + func.sum(case((t.channel == PACKET, t.queued), else_=0))
    return list(session.execute(select(t.bioguide).group_by(t.bioguide).having(waiting > 0)
                                .order_by(t.bioguide)).scalars())


def end_letters_to_departed(session: Session, roster: Roster, *, now: datetime | None = None) -> int:
    """End as failed (LEFT_OFFICE) the waiting letters whose member has left; commit; return how many."""
    now = now or utcnow()
    waiting = or_(Message.status == NEEDS_CONSTITUENT,
                  (Message.channel == PACKET) & (Message.status == QUEUED) & Message.packet_id.is_(None))
    ended = 0
    for bioguide in _members_with_waiting_letters(session):
        if bioguide not in roster.ended and bioguide in roster.known:
            continue  # in office: nothing of theirs can have left
        while True:
            try:
                # Oldest first: of a member missing from the data only letters older than it are gone.
                batch = session.execute(select(Message).where(Message.bioguide == bioguide, waiting)
                                        .order_by(Message.created_day, Message.id).limit(BATCH)
                                        .with_for_update()).scalars().all()
                gone = end_if_departed(session, batch, roster, now=now)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            ended += gone
            if len(batch) < BATCH or gone < len(batch):
                break
    return ended


def end_if_departed(session: Session, messages: Iterable[Message], roster: Roster, *, now: datetime) -> int:
    """End as failed (LEFT_OFFICE) the `messages` whose member had left when written; return how many.

    In the caller's transaction; the caller has locked the messages.
    """
    gone = [m for m in messages if roster.has_left(m.bioguide, m.created_day)]
    for message in gone:
        set_status(session, message, FAILED, now=now, last_error=LEFT_OFFICE, next_attempt_at=None)
    return len(gone)
