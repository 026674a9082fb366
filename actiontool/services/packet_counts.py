"""Roll-ups of the packet letters waiting for the organization, kept exact like services.counts.

A letter is waiting when its channel is `packet`, its status `queued` and it is in no packet. Three hooks
keep `packet_waiting_days` (member × day) and `packet_waiting_places` (member × ZIP × city) in step, each
inside the caller's transaction:
- `record_new_messages` after messages are inserted (services.submit),
- `record_status_change` from `services.outbox.set_status` (a retry puts a failed letter back in waiting,
  a member who left office takes it out),
- `record_packed` when services.packets freezes letters into a packet.
Changes are collected and applied just before commit, sorted, after services.counts has applied its own
(its listener registers first: this module imports it). Then each touched member's row of
`packet_waiting_members` (letters, dates, top ZIPs and cities) is locked and summed again from that
member's rows of the two roll-ups, so the page reads one row per member. Every writer takes row locks in
one order (counts, days, places, members; each sorted), so concurrent transactions on PostgreSQL cannot
deadlock; a member's row is locked before it is summed, so two writers never sum over each other's
uncommitted changes. `rebuild` recomputes all three from the base rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Table, delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from actiontool.models import (
    PACKET,
    QUEUED,
    Action,
    Message,
    PacketWaitingDay,
    PacketWaitingMember,
    PacketWaitingPlace,
)
from actiontool.services import counts  # noqa: F401 - its before_commit listener must run before ours

DAYS: Table = PacketWaitingDay.__table__  # type: ignore[assignment]
PLACES: Table = PacketWaitingPlace.__table__  # type: ignore[assignment]
MEMBERS: Table = PacketWaitingMember.__table__  # type: ignore[assignment]
TOP = 3  # ZIPs and cities kept per member
_PENDING = "actiontool.packet_counts.pending"
DayKey = tuple[str, str, date]  # campaign, bioguide, day
PlaceKey = tuple[str, str, str, str]  # campaign, bioguide, zip, city


def place(zip_code: str | None, city: str | None) -> tuple[str, str]:
    """Return the (ZIP, city) a letter is counted under: five-digit ZIP and the city as written, trimmed."""
    return (zip_code or "").strip()[:5], (city or "").strip()[:100]


def is_waiting(channel: str, status: str, packet_id: int | None) -> bool:
    """Return True for a letter the organization still has to put in a packet."""
    return channel == PACKET and status == QUEUED and packet_id is None


def _pending(session: Session) -> dict[str, Any]:
    return session.info.setdefault(_PENDING, {"days": Counter(), "places": Counter(), "members": {}})


def _add(session: Session, letter: Mapping[str, Any], zip_code: str | None, city: str | None, n: int) -> None:
    """Collect +n (or -n) waiting letters of `letter`'s member, day and place."""
    pending = _pending(session)
    campaign, bioguide = letter["campaign"], letter["bioguide"]
    pending["days"][(campaign, bioguide, letter["created_day"])] += n
    pending["places"][(campaign, bioguide, *place(zip_code, city))] += n
    pending["members"][(campaign, bioguide)] = {k: letter[k] for k in ("member_name", "state", "district",
                                                                       "chamber")}


def _fields(message: Any) -> dict[str, Any]:
    """Return the fields of an ORM message or a RETURNING row the roll-ups need."""
    names = ("campaign", "bioguide", "created_day", "member_name", "state", "district", "chamber", "channel",
             "status", "packet_id", "action_id")
    return {n: counts._get(message, n) for n in names}


def record_new_messages(session: Session, messages: Iterable[Any], action: Any = None) -> None:
    """Count freshly inserted messages that wait for a packet, in the caller's transaction.

    With `action` (the one action the messages belong to, as a submit has it), its ZIP and city are
    taken from it rather than read back from the database.
    """
    waiting = [f for f in map(_fields, messages) if is_waiting(f["channel"], f["status"], f["packet_id"])]
    if not waiting:
        return
    ids = sorted({f["action_id"] for f in waiting})
    if action is not None and ids == [counts._get(action, "id")]:
        places = {ids[0]: (counts._get(action, "zip"), counts._get(action, "city"))}
    else:
        places = {row.id: (row.zip, row.city) for row in
                  session.execute(select(Action.id, Action.zip, Action.city).where(Action.id.in_(ids)))}
    for letter in waiting:
        _add(session, letter, *places.get(letter["action_id"], (None, None)), 1)


def record_status_change(session: Session, message: Message, old: str, new: str) -> None:
    """Count a persisted message's move from `old` to `new` into or out of waiting."""
    was = is_waiting(message.channel, old, message.packet_id)
    now = is_waiting(message.channel, new, message.packet_id)
    if was == now:
        return
    action = message.action
    _add(session, _fields(message), action.zip, action.city, 1 if now else -1)


def record_packed(session: Session, letters: Iterable[Mapping[str, Any]]) -> None:
    """Take letters just put in a packet out of waiting (mappings of the message fields, zip and city)."""
    for letter in letters:
        _add(session, letter, letter.get("zip"), letter.get("city"), -1)


def _insert(session: Session, table: Table) -> Any:
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


@event.listens_for(Session, "before_commit")
def _apply_pending(session: Session) -> None:
    """Apply the collected changes, sorted by key, in the committing transaction."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    for key in sorted(pending["days"], key=lambda k: (k[0], k[1], k[2].isoformat())):
        n = pending["days"][key]
        if n:
            campaign, bioguide, day = key
            values = {"campaign": campaign, "bioguide": bioguide, "day": day, "n": n,
                      **pending["members"][(campaign, bioguide)]}
            stmt = _insert(session, DAYS).values(values)
            session.execute(stmt.on_conflict_do_update(index_elements=["campaign", "bioguide", "day"],
                                                       set_={"n": DAYS.c.n + stmt.excluded.n}))
    for key in sorted(pending["places"]):
        n = pending["places"][key]
        if n:
            campaign, bioguide, zip_code, city = key
            stmt = _insert(session, PLACES).values(campaign=campaign, bioguide=bioguide, zip=zip_code,
                                                   city=city, n=n)
            session.execute(stmt.on_conflict_do_update(index_elements=["campaign", "bioguide", "zip", "city"],
                                                       set_={"n": PLACES.c.n + stmt.excluded.n}))
    for campaign, bioguide in sorted(pending["members"]):
        _resum_member(session, campaign, bioguide, pending["members"][(campaign, bioguide)])


def _resum_member(session: Session, campaign: str, bioguide: str, member: Mapping[str, Any]) -> None:
    """Lock the member's summary row, then sum it again from their rows of the two roll-ups."""
    key = {"campaign": campaign, "bioguide": bioguide}
    stmt = _insert(session, MEMBERS).values(**key, **member, letters=0, top_zips="[]", top_cities="[]")
    session.execute(stmt.on_conflict_do_update(index_elements=["campaign", "bioguide"],
                                               set_={"member_name": stmt.excluded.member_name}))
    d = DAYS.c
    letters, first, last = session.execute(
        select(func.coalesce(func.sum(d.n), 0), func.min(d.day), func.max(d.day))
        .where(d.campaign == campaign, d.bioguide == bioguide, d.n > 0)).one()
    session.execute(update(MEMBERS).where(MEMBERS.c.campaign == campaign, MEMBERS.c.bioguide == bioguide)
                    .values(letters=int(letters), first_day=first, last_day=last,
                            top_zips=_top(session, campaign, bioguide, "zip"),
                            top_cities=_top(session, campaign, bioguide, "city")))


def _top(session: Session, campaign: str, bioguide: str, column: str) -> str:
    """Return the member's TOP ZIPs or cities with the most waiting letters, as JSON."""
    p = PLACES.c
    total = func.sum(p.n)
    rows = session.execute(
        select(p[column], total)
        .where(p.campaign == campaign, p.bioguide == bioguide, p.n > 0, p[column] != "")
        .group_by(p[column]).order_by(total.desc(), p[column]).limit(TOP)).all()
    return json.dumps([[name, int(n)] for name, n in rows], ensure_ascii=False)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    """Drop changes collected in a transaction that rolled back."""
    session.info.pop(_PENDING, None)


def _rebuild_with_counts(session: Session, campaign: str | None) -> None:
    rebuild(session, campaign)


# counts.rebuild locks these tables (after its own, the order writers take them in) and rebuilds them in
# its transaction, so a rebuild of the packet roll-ups is exact while workers and packets run.
counts.add_rebuilt_tables((DAYS, PLACES, MEMBERS), _rebuild_with_counts)


def rebuild(session: Session, campaign: str | None = None) -> None:
    """Recompute both roll-ups (of one campaign, or all) from the messages, in the caller's transaction."""
    for table in (DAYS, PLACES):
        stmt = delete(table)
        session.execute(stmt if campaign is None else stmt.where(table.c.campaign == campaign))
    where = [Message.channel == PACKET, Message.status == QUEUED, Message.packet_id.is_(None)]
    if campaign is not None:
        where.append(Message.campaign == campaign)
    day_keys = (Message.campaign, Message.bioguide, Message.created_day)
    session.execute(DAYS.insert().from_select(
        ["campaign", "bioguide", "day", "member_name", "state", "district", "chamber", "n"],
        select(*day_keys, func.max(Message.member_name), func.max(Message.state), func.max(Message.district),
               func.max(Message.chamber), func.count()).where(*where).group_by(*day_keys)))
    zip_code = func.substr(func.trim(func.coalesce(Action.zip, "")), 1, 5)
    city = func.substr(func.trim(func.coalesce(Action.city, "")), 1, 100)
    place_keys = (Message.campaign, Message.bioguide, zip_code, city)
    session.execute(PLACES.insert().from_select(
        ["campaign", "bioguide", "zip", "city", "n"],
        select(*place_keys, func.count()).join(Action, Action.id == Message.action_id).where(*where)
        .group_by(*place_keys)))
    stmt = delete(MEMBERS)
    session.execute(stmt if campaign is None else stmt.where(MEMBERS.c.campaign == campaign))
    d = DAYS.c
    members = session.execute(
        select(d.campaign, d.bioguide, func.max(d.member_name), func.max(d.state), func.max(d.district),
               func.max(d.chamber)).where(*([] if campaign is None else [d.campaign == campaign]))
        .group_by(d.campaign, d.bioguide)).all()
    for name, bioguide, member_name, state, district, chamber in members:
        _resum_member(session, name, bioguide, {"member_name": member_name, "state": state,
                                                "district": district, "chamber": chamber})
