"""Office packets: the organization carries a member's letters to the office in bulk and marks them delivered.

Statuses. A letter of the `packet` channel is written `queued` and stays `queued` while it waits (in no
packet) and while it sits in a packet not yet delivered; the delivery worker never claims it. "Mark
delivered" moves every letter of the packet to `delivered` through `outbox.set_status` (so the roll-up
counts stay exact); a letter whose member has left office ends `failed` with `models.LEFT_OFFICE` instead
of going into a packet. A packet's letters are frozen at making: `Packet.letters` is a JSON snapshot, so
downloading it again gives the same document even after `actiontool purge` cleared the messages.

A message is in at most one packet: `make_packet` claims letters with one `UPDATE ... WHERE packet_id IS
NULL`. On PostgreSQL a second organizer's concurrent UPDATE waits for the first to commit, re-checks the
condition and skips the rows already taken; on SQLite every write transaction begins IMMEDIATE (see
actiontool.db), which serialises the two outright.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, literal, select, text, update
from sqlalchemy.orm import Session

from actiontool.campaigns import Campaign
from actiontool.districts import district_label
from actiontool.districts.tenure import Roster
from actiontool.letters import full_text
from actiontool.models import (
    DELIVERED,
    DELIVERED_HOW,
    FAILED,
    LEFT_OFFICE,
    PACKET,
    QUEUED,
    STATUSES,
    Action,
    Message,
    Packet,
    utcnow,
)
from actiontool.packets import (
    OfficeReport,
    PacketCover,
    PacketLetter,
    make_cover,
    redact_contact_details,
    render_office_report_pdf,
    render_packet_csv,
    render_packet_pdf,
    tally_cities,
    tally_zips,
)
from actiontool.services import counts, packet_counts, tenure
from actiontool.services.organizers import audit
from actiontool.services.outbox import set_status
from actiontool.timezones import local_day, zone

MAKE_PACKET = "packet_made"
MARK_DELIVERED = "packet_delivered"
LEFT_OFFICE_ENDED = "left_office"
NOTE_MAX = 2000
PACKET_MAX = 5000  # letters per packet: its PDF builds in a few seconds (docs/PERFORMANCE.md, packets)
WORDS_MAX = 500  # own words an office report lists; the count covers them all
HOW_LABELS: dict[str, str] = {"emailed": "e-mailed", "hand_delivered": "hand-delivered", "mailed": "mailed"}
WAITING = (Message.channel == PACKET, Message.status == QUEUED, Message.packet_id.is_(None))


class PacketError(ValueError):
    """Base of the packet service's domain errors; the message is fit to show an organizer (in English).

    `details` carries the message's parts (a packet number, a date, which check failed) so the web layer
    can say it in the reader's language.
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class NothingWaiting(PacketError):
    """No letter of this campaign waits for a packet to this member."""


class MemberLeftOffice(PacketError):
    """The member is no longer in office: their waiting letters ended failed instead."""


class UnknownPacket(PacketError):
    """No packet has this id in this campaign."""


class AlreadyDelivered(PacketError):
    """The packet was marked delivered before."""


class InvalidDelivery(PacketError):
    """A delivery date, way or note that cannot be recorded."""


@dataclass(frozen=True, slots=True)
class PlaceCount:
    """A city or ZIP and how many letters came from it."""

    name: str
    letters: int


@dataclass(frozen=True, slots=True)
class WaitingMember:
    """One member's letters waiting for a packet."""

    bioguide: str
    member_name: str
    chamber: str
    state: str
    district: int | None
    letters: int
    first_day: date
    last_day: date
    top_cities: tuple[PlaceCount, ...]
    top_zips: tuple[PlaceCount, ...]
    left_office: bool = False

    @property
    def seat(self) -> str:
        """Return `WI-3`, `AK-AL`, or the state for a senator."""
        return seat_label(self.state, self.district)


def seat_label(state: str, district: int | None) -> str:
    """Return `WI-3`, `AK-AL`, or the state alone for a senator (district None)."""
    return state if district is None else district_label(state, district)


@dataclass(frozen=True, slots=True)
class OfficeSummary:
    """What a campaign's letters to one member add up to, without anyone's street, e-mail or phone."""

    campaign: str
    bioguide: str
    member_name: str
    by_status: Mapping[str, int]
    written: int  # every letter except failed ones
    first_day: date | None
    last_day: date | None
    places: tuple[tuple[str, str, str, int], ...]  # (city, state, ZIP, letters) of the written letters
    own_words_count: int
    own_words: tuple[str, ...]  # newest first, at most WORDS_MAX, contact details redacted


def waiting_by_member(session: Session, campaign: str, *, roster: Roster | None = None,
                      top: int = packet_counts.TOP) -> list[WaitingMember]:
    """Return every member with letters waiting for a packet, most letters first: one roll-up row each."""
    m = packet_counts.MEMBERS.c
    rows = session.execute(select(m.bioguide, m.member_name, m.chamber, m.state, m.district, m.letters,
                                  m.first_day, m.last_day, m.top_cities, m.top_zips)
                           .where(m.campaign == campaign, m.letters > 0)).all()
    return sorted((WaitingMember(
        bioguide=bioguide, member_name=name, chamber=chamber, state=state, district=district,
        letters=int(letters), first_day=first, last_day=last,
        top_cities=tuple(PlaceCount(n, c) for n, c in json.loads(cities)[:top]),
        top_zips=tuple(PlaceCount(n, c) for n, c in json.loads(zips)[:top]),
        # The newest waiting letter was written on the last day: if even its member is gone, all are.
        left_office=roster is not None and roster.has_left(bioguide, last))
        for bioguide, name, chamber, state, district, letters, first, last, cities, zips in rows),
        key=lambda w: (-w.letters, w.member_name, w.bioguide))


_LETTER_FIELDS = ("id", "campaign", "bioguide", "member_name", "member_title", "chamber", "state", "district",
                  "created_at", "created_day", "subject", "suggested_text", "constituent_text", "edited",
                  "ref")
_SENDER_FIELDS = ("prefix", "first_name", "last_name", "email", "address1", "city", "zip", "phone", "lang")


def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return one letter as the packet keeps it: JSON-ready, dates as ISO text."""
    out = {name: row[name] for name in (*_LETTER_FIELDS, *_SENDER_FIELDS)}
    out["created_at"] = row["created_at"].isoformat()
    out["created_day"] = row["created_day"].isoformat()
    out["sender_state"] = row["sender_state"]
    return out


def _end_left_office(session: Session, campaign: str, bioguide: str, roster: Roster, now: datetime) -> int:
    """End as failed (LEFT_OFFICE) this member's waiting letters whose member has left; return how many."""
    waiting = session.execute(select(Message).where(
        Message.campaign == campaign, Message.bioguide == bioguide, *WAITING).with_for_update()
    ).scalars().all()
    return tenure.end_if_departed(session, waiting, roster, now=now)


def make_packet(session: Session, campaign: str, bioguide: str, actor: str, *, roster: Roster | None = None,
                now: datetime | None = None, limit: int | None = None) -> Packet:
    """Freeze the letters waiting for member `bioguide` into a new packet, audited; commit and return it.

    A packet holds at most `limit` (PACKET_MAX) letters, the oldest first; the rest wait for the next one,
    so every packet prints in seconds.

    Raises NothingWaiting (nothing written) when no letter waits, and MemberLeftOffice when the member has
    left office: their waiting letters are then ended failed (that much is committed) and no packet made.
    """
    now = now or utcnow()
    limit = limit or PACKET_MAX
    try:
        if roster is not None:
            ended = _end_left_office(session, campaign, bioguide, roster, now)
            if ended:
                audit(session, actor, LEFT_OFFICE_ENDED, campaign=campaign,
                      detail=f"{ended} letter(s) to {bioguide} ended: {LEFT_OFFICE}")
                session.commit()
                raise MemberLeftOffice(f"{bioguide} is no longer in office: {ended} waiting letter(s) were "
                                       "ended as failed instead of going into a packet",
                                       bioguide=bioguide, ended=ended)
        packet = Packet(campaign=campaign, bioguide=bioguide, member_name="", created_at=now,
                        created_by=actor, letter_count=0, first_day=now.date(), last_day=now.date(),
                        letters="[]")
        session.add(packet)
        session.flush()
        oldest = (select(Message.id)
                  .where(Message.campaign == campaign, Message.bioguide == bioguide, *WAITING)
                  .order_by(Message.created_at, Message.id).limit(limit))
        # The outer condition is checked again on each row once a concurrent maker's lock is released.
        taken = session.execute(
            update(Message).where(Message.id.in_(oldest.scalar_subquery()), *WAITING)
            .values(packet_id=packet.id).returning(Message.id).execution_options(synchronize_session=False)
        ).scalars().all()
        if not taken:
            session.rollback()
            raise NothingWaiting(f"no letter to {bioguide} is waiting for a packet in {campaign}",
                                 bioguide=bioguide)
        letters = _packet_rows(session, packet.id)
        packet_counts.record_packed(session, letters)
        packet.member_name = letters[0]["member_name"]
        packet.letter_count = len(letters)
        packet.first_day = min(r["created_day"] for r in letters)
        packet.last_day = max(r["created_day"] for r in letters)
        packet.letters = json.dumps([_snapshot(r) for r in letters], ensure_ascii=False)
        audit(session, actor, MAKE_PACKET, campaign=campaign,
              detail=f"packet {packet.id}: {len(letters)} letter(s) to {bioguide}")
        session.commit()
        return packet
    except BaseException:
        session.rollback()
        raise


def _packet_rows(session: Session, packet_id: int) -> list[dict[str, Any]]:
    """Return the letters of a packet with their senders' details, oldest first."""
    columns = [getattr(Message, name) for name in _LETTER_FIELDS]
    sender = [getattr(Action, name) for name in _SENDER_FIELDS]
    stmt = (select(*columns, *sender, Action.state.label("sender_state"))
            .join(Action, Action.id == Message.action_id)
            .where(Message.packet_id == packet_id).order_by(Message.created_at, Message.id))
    return [dict(row) for row in session.execute(stmt).mappings()]


def packet_letters(packet: Packet) -> list[dict[str, Any]]:
    """Return the frozen letters of a packet (as `make_packet` stored them)."""
    return list(json.loads(packet.letters))


def get_packet(session: Session, campaign: str, packet_id: int) -> Packet:
    """Return the packet with this id in this campaign, or raise UnknownPacket."""
    packet = session.get(Packet, packet_id)
    if packet is None or packet.campaign != campaign:
        raise UnknownPacket(f"there is no packet {packet_id} in {campaign}", packet=packet_id)
    return packet


def packets_of(session: Session, campaign: str, *, limit: int = 200) -> list[Packet]:
    """Return the campaign's packets, newest first."""
    return list(session.execute(select(Packet).where(Packet.campaign == campaign)
                                .order_by(Packet.created_at.desc(), Packet.id.desc()).limit(limit)).scalars())


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def delivery_note(note: str | None) -> str | None:
    """Return the note as stored: line ends as \\n, trimmed, None when empty; raise InvalidDelivery if unfit.

    Control characters are refused rather than dropped (PostgreSQL cannot store a NUL in text at all).
    """
    note = (note or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(note):
        raise InvalidDelivery("note: it holds a control character; type or paste it again as plain text",
                              problem="note_control")
    if len(note) > NOTE_MAX:
        raise InvalidDelivery(f"note: at most {NOTE_MAX} characters", problem="note_length", limit=NOTE_MAX)
    return note or None


def _delivered_at(on_date: date, now: datetime, time_zone: str) -> datetime:
    """Return the time recorded on the letters: now when delivered on today's local day, else noon of
    that local day (so the instant falls on the day the organizer chose, in every zone)."""
    if on_date == local_day(now, time_zone):
        return now
    return datetime.combine(on_date, time(12, 0), zone(time_zone)).astimezone(UTC)


def mark_delivered(session: Session, campaign: str, packet_id: int, on_date: date, how: str,
                   note: str | None, actor: str, *, now: datetime | None = None,
                   time_zone: str = "UTC") -> int:
    """Record the packet as delivered and move each of its letters to `delivered`, audited; commit.

    `on_date` is a day in the campaign's `time_zone` (registry.time_zone_of), the day the organizer's
    calendar shows: it may not be after today there, nor before the local day the packet was made.
    Returns how many letters moved. Raises UnknownPacket, AlreadyDelivered or InvalidDelivery with
    nothing changed.
    """
    now = now or utcnow()
    note = delivery_note(note)
    if how not in DELIVERED_HOW:
        raise InvalidDelivery(f"how: one of {', '.join(HOW_LABELS[h] for h in DELIVERED_HOW)}", problem="how")
    try:
        packet = session.execute(select(Packet).where(Packet.id == packet_id).with_for_update()
                                 .execution_options(populate_existing=True)).scalar_one_or_none()
        if packet is None or packet.campaign != campaign:
            raise UnknownPacket(f"there is no packet {packet_id} in {campaign}", packet=packet_id)
        if packet.delivered_on is not None:
            raise AlreadyDelivered(f"packet {packet_id} was marked delivered on {packet.delivered_on} by "
                                   f"{packet.delivered_by}", packet=packet_id, on=packet.delivered_on,
                                   by=packet.delivered_by)
        if on_date > local_day(now, time_zone):
            raise InvalidDelivery("date: the delivery date cannot be in the future", problem="future")
        made = local_day(packet.created_at, time_zone)
        if on_date < made:
            raise InvalidDelivery(f"date: the packet was made on {made}; it cannot have been delivered "
                                  "before", problem="before_made", made=made)
        at = _delivered_at(on_date, now, time_zone)
        messages = session.execute(
            select(Message).where(Message.packet_id == packet_id, Message.status == QUEUED)
            .order_by(Message.id).with_for_update()).scalars().all()
        for message in messages:
            set_status(session, message, DELIVERED, now=now, delivered_at=at, last_error=None,
                       next_attempt_at=None, lease_until=None)
        packet.delivered_on, packet.delivered_how, packet.delivered_note = on_date, how, note
        packet.delivered_by, packet.delivered_recorded_at = actor, now
        audit(session, actor, MARK_DELIVERED, campaign=campaign,
              detail=f"packet {packet_id}: {len(messages)} letter(s) to {packet.bioguide} {HOW_LABELS[how]} "
                     f"on {on_date.isoformat()}")
        session.commit()
        return len(messages)
    except BaseException:
        session.rollback()
        raise


def office_report(session: Session, campaign: str, bioguide: str) -> OfficeSummary:
    """Return what the campaign's letters to one member add up to, whatever their channel.

    Counts come from the roll-ups; places and own words from the member's letters (one member's share).
    Failed letters never reached anyone: they are counted by status but not in places or words.
    """
    table = counts.MEMBER_COUNTS
    where = (table.c.campaign == campaign, table.c.bioguide == bioguide)
    sums = [func.coalesce(func.sum(table.c[s]), 0) for s in STATUSES]
    row = session.execute(select(*sums, func.max(table.c.member_name), func.min(table.c.day),
                                 func.max(table.c.day)).where(*where)).one()
    by_status = {s: int(n) for s, n in zip(STATUSES, row[:len(STATUSES)], strict=True)}
    member_name, first_day, last_day = row[len(STATUSES):]
    written = (Message.campaign == campaign, Message.bioguide == bioguide, Message.status != FAILED)
    place_rows = session.execute(
        select(Action.city, Action.state, Action.zip, func.count()).select_from(Message)
        .join(Action, Action.id == Message.action_id)
        .where(*written).group_by(Action.city, Action.state, Action.zip)).all()
    has_words = (Message.constituent_text.is_not(None), Message.constituent_text != "")
    own_count = session.execute(select(func.count()).select_from(Message)
                                .where(*written, *has_words)).scalar_one()
    words = session.execute(select(Message.constituent_text).where(*written, *has_words)
                            .order_by(Message.created_at.desc()).limit(WORDS_MAX)).scalars()
    return OfficeSummary(
        campaign=campaign, bioguide=bioguide, member_name=member_name or "", by_status=by_status,
        written=sum(n for s, n in by_status.items() if s != FAILED), first_day=first_day, last_day=last_day,
        places=tuple(((city or "").strip(), state or "", (zip_code or "").strip(), int(n))
                     for city, state, zip_code, n in place_rows),
        own_words_count=int(own_count),
        own_words=tuple(redact_contact_details((said or "").strip()) for said in words))


def left_office_count(session: Session, campaign: str) -> int:
    """Return how many of the campaign's letters ended failed because their member left office."""
    if session.get_bind().dialect.name == "sqlite":
        # Named outright: with the statistics of a table that is all one status SQLite would rather scan.
        sql = ("SELECT count(*) FROM messages INDEXED BY ix_messages_left_office WHERE campaign = :campaign "
               f"AND status = '{FAILED}' AND last_error = '{LEFT_OFFICE}'")
        return int(session.execute(text(sql), {"campaign": campaign}).scalar_one())
    # Status and reason are written into the SQL, not bound, so the partial index serves every plan.
    ended = (Message.status == literal(FAILED, literal_execute=True),
             Message.last_error == literal(LEFT_OFFICE, literal_execute=True))
    return int(session.execute(select(func.count()).select_from(Message).where(
        Message.campaign == campaign, *ended)).scalar_one())


# Documents: the frozen values the renderers of actiontool.packets draw. ---------------------------------

STATUS_LABELS: dict[str, str] = {
    DELIVERED: "Delivered", "handed_off": "Sent by the constituent",
    QUEUED: "Waiting for delivery", "sending": "Being delivered",
    "needs_constituent": "Waiting on the constituent", FAILED: "Not delivered",
}


def member_label(title: str, name: str, state: str, district: int | None) -> str:
    """Return how a cover names the office: "Senator Wanda Senior (WI)", "Representative Rita One (WI-1)"."""
    seat = seat_label(state, district)
    return f"{title} {name} ({seat})" if title else f"{name} ({seat})"


def packet_letters_for_print(packet: Packet) -> list[PacketLetter]:
    """Return the packet's frozen letters as the renderers take them: sender, address and full text."""
    result = []
    for letter in packet_letters(packet):
        name = " ".join(part for part in (letter.get("prefix"), letter.get("first_name"),
                                          letter.get("last_name")) if part)
        result.append(PacketLetter(
            name=name, street=letter.get("address1") or "", city=letter.get("city") or "",
            state=letter.get("sender_state") or letter.get("state") or "", zip=letter.get("zip") or "",
            sent_at=datetime.fromisoformat(letter["created_at"]),
            text=full_text(letter.get("suggested_text") or "", letter.get("constituent_text")),
            edited=bool(letter.get("edited"))))
    return result


def packet_cover(packet: Packet, letters: Sequence[PacketLetter], campaign: Campaign | None,
                 organization: str) -> PacketCover:
    """Return the cover of a packet: the campaign, its ask and bill, the organization and the counts."""
    first = packet_letters(packet)[0]
    text = campaign.text(campaign.default_lang) if campaign is not None else None
    return make_cover(letters, campaign_title=text.title if text else packet.campaign,
                      ask=text.ask if text else "",
                      bill=campaign.bill.label if campaign is not None and campaign.bill else "",
                      organization=organization,
                      member=member_label(first.get("member_title") or "", packet.member_name,
                                          first.get("state") or "", first.get("district")),
                      prepared_on=packet.created_at.date())


def render_packet(packet: Packet, campaign: Campaign | None, organization: str, fmt: str) -> bytes:
    """Return the packet as a PDF (`fmt` "pdf") or a CSV ("csv"), from its frozen letters only."""
    letters = packet_letters_for_print(packet)
    if fmt == "csv":
        return render_packet_csv(letters)
    return render_packet_pdf(packet_cover(packet, letters, campaign, organization), letters)


def render_office_report(summary: OfficeSummary, campaign: Campaign | None, member: str,
                         today: date) -> bytes:
    """Return the one-page office report of `summary` as a PDF."""
    title = campaign.title if campaign is not None else summary.campaign
    by_status = tuple((STATUS_LABELS.get(s, s), n) for s, n in summary.by_status.items() if n)
    places = [(city, state, zip_code) for city, state, zip_code, n in summary.places for _ in range(n)]
    report = OfficeReport(
        member=member, campaign_title=title, by_status=by_status, first_date=summary.first_day,
        last_date=summary.last_day, by_city=tally_cities((city, state) for city, state, _ in places),
        by_zip=tally_zips(zip_code for _, _, zip_code in places), own_words_count=summary.own_words_count,
        own_words=summary.own_words, prepared_on=today)
    return render_office_report_pdf(report)
