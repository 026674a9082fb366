"""The packet service: waiting letters per member, packet-making, mark-delivered, the office report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actiontool.districts.tenure import Roster
from actiontool.models import (
    DELIVERED,
    FAILED,
    LEFT_OFFICE,
    QUEUED,
    STATUSES,
    AuditEvent,
    Message,
    Packet,
    utcnow,
)
from actiontool.services import counts, packet_counts, packets, purge
from actiontool.timezones import local, local_day
from tests.packets.support import (
    CAMPAIGN,
    MAX,
    RITA,
    RON,
    WANDA,
    brute_status_counts,
    brute_waiting,
    rollup_status_counts,
    write_letter,
)

ORG = "org@example.org"
D1 = datetime(2026, 11, 2, 15, tzinfo=UTC)
D2 = datetime(2026, 11, 5, 9, tzinfo=UTC)


def _assert_waiting_matches_recount(session: Session) -> None:
    """The roll-up answer of waiting_by_member equals a brute-force recount from the messages."""
    brute = brute_waiting(session)
    rows = {m.bioguide: m for m in packets.waiting_by_member(session, CAMPAIGN)}
    assert set(rows) == set(brute)

    def top(tally: dict[str, int]) -> list[tuple[str, int]]:
        return sorted(((k, n) for k, n in tally.items() if k), key=lambda kn: (-kn[1], kn[0]))[:3]

    for bioguide, entry in brute.items():
        row = rows[bioguide]
        assert row.letters == entry["letters"]
        assert (row.first_day, row.last_day) == (min(entry["days"]), max(entry["days"]))
        assert [(t.name, t.letters) for t in row.top_zips] == top(entry["zips"])
        assert [(t.name, t.letters) for t in row.top_cities] == top(entry["cities"])


def _assert_counts_exact(session: Session) -> None:
    """The campaign's totals and per-member roll-ups equal a recount of the messages by status."""
    assert rollup_status_counts(session) == brute_status_counts(session)
    table = counts.MEMBER_COUNTS
    for bioguide, status, n in session.execute(select(Message.bioguide, Message.status, func.count())
                                               .where(Message.campaign == CAMPAIGN)
                                               .group_by(Message.bioguide, Message.status)):
        rolled = session.execute(select(func.sum(table.c[status])).where(
            table.c.campaign == CAMPAIGN, table.c.bioguide == bioguide)).scalar_one()
        assert rolled == n, (bioguide, status)


def test_waiting_by_member_gives_counts_date_range_and_top_places(session: Session) -> None:
    write_letter(session, "a@example.org", (RITA, WANDA), city="Oneville", zip_code="53001", day=D1)
    write_letter(session, "b@example.org", (RITA, WANDA), city="Oneville", zip_code="53001", day=D2)
    write_letter(session, "c@example.org", (RON, WANDA), city="Twotown", zip_code="53002", day=D2)
    write_letter(session, "d@example.org", (RITA,), channel="smtp", day=D2)  # not a packet letter
    rows = {m.bioguide: m for m in packets.waiting_by_member(session, CAMPAIGN)}
    assert rows["S000001"].letters == 3
    assert (rows["S000001"].first_day, rows["S000001"].last_day) == (D1.date(), D2.date())
    assert [(t.name, t.letters) for t in rows["S000001"].top_cities] == [("Oneville", 2), ("Twotown", 1)]
    assert [(t.name, t.letters) for t in rows["R000001"].top_zips] == [("53001", 2)]
    assert rows["R000002"].seat == "WI-2" and rows["S000001"].seat == "WI"
    assert [m.bioguide for m in packets.waiting_by_member(session, CAMPAIGN)][0] == "S000001"  # most first
    _assert_waiting_matches_recount(session)


def test_make_packet_freezes_only_that_members_waiting_letters(session: Session) -> None:
    write_letter(session, "a@example.org", (RITA, WANDA), first="José", last="Núñez", day=D1)
    write_letter(session, "b@example.org", (RITA,), first="李", last="小龍", day=D2)
    write_letter(session, "c@example.org", (RITA,), campaign="other-campaign")
    packet = packets.make_packet(session, CAMPAIGN, "R000001", ORG)
    assert packet.letter_count == 2 and packet.member_name == "Rita One"
    assert (packet.first_day, packet.last_day) == (D1.date(), D2.date())
    letters = packets.packet_letters(packet)
    assert [(x["first_name"], x["last_name"], x["address1"], x["zip"]) for x in letters] == [
        ("José", "Núñez", "1 Main St", "53001"), ("李", "小龍", "1 Main St", "53001")]
    in_packet = session.execute(select(Message.bioguide, Message.campaign).where(
        Message.packet_id == packet.id)).all()
    assert sorted(in_packet) == [("R000001", CAMPAIGN), ("R000001", CAMPAIGN)]
    assert {m.bioguide for m in packets.waiting_by_member(session, CAMPAIGN)} == {"S000001"}
    assert packets.waiting_by_member(session, "other-campaign")[0].letters == 1
    assert session.execute(select(AuditEvent).where(AuditEvent.kind == packets.MAKE_PACKET)).scalar_one()
    _assert_waiting_matches_recount(session)
    _assert_counts_exact(session)


def test_make_packet_with_nothing_waiting_raises_and_writes_nothing(session: Session) -> None:
    write_letter(session, "a@example.org", (RITA,))
    with pytest.raises(packets.NothingWaiting):
        packets.make_packet(session, CAMPAIGN, "R000002", ORG)
    packets.make_packet(session, CAMPAIGN, "R000001", ORG)
    with pytest.raises(packets.NothingWaiting):
        packets.make_packet(session, CAMPAIGN, "R000001", ORG)  # taken already
    assert session.execute(select(func.count()).select_from(Packet)).scalar_one() == 1
    assert session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 1


def test_mark_delivered_moves_exactly_the_packets_letters_and_counts_stay_exact(session: Session) -> None:
    for i in range(3):
        write_letter(session, f"p{i}@example.org", (RITA, WANDA), day=D1)
    packet = packets.make_packet(session, CAMPAIGN, "R000001", ORG, now=D1 + timedelta(hours=1))
    for i in range(2):  # written after the packet: they wait for the next one
        write_letter(session, f"q{i}@example.org", (RITA,), day=D2)
    moved = packets.mark_delivered(session, CAMPAIGN, packet.id, D2.date(), "hand_delivered",
                                   " At the meeting ", ORG, now=D2 + timedelta(hours=3))
    assert moved == 3
    rows = session.execute(select(Message.packet_id, Message.status, Message.bioguide)).all()
    assert sorted((p == packet.id, s) for p, s, _ in rows) == (
        [(False, QUEUED)] * 5 + [(True, DELIVERED)] * 3)
    delivered_ids = set(session.execute(select(Message.id).where(Message.status == DELIVERED)).scalars())
    assert delivered_ids == {x["id"] for x in packets.packet_letters(packet)}
    session.expire_all()
    stored = session.get(Packet, packet.id)
    assert stored is not None
    assert (stored.delivered_on, stored.delivered_how, stored.delivered_note, stored.delivered_by) == (
        D2.date(), "hand_delivered", "At the meeting", ORG)
    assert rollup_status_counts(session)[DELIVERED] == 3
    _assert_counts_exact(session)
    _assert_waiting_matches_recount(session)
    assert "3 letter(s)" in session.execute(select(AuditEvent.detail).where(
        AuditEvent.kind == packets.MARK_DELIVERED)).scalar_one()


def test_a_second_mark_delivered_raises_and_changes_nothing(session: Session) -> None:
    write_letter(session, "a@example.org", (RITA,))
    packet = packets.make_packet(session, CAMPAIGN, "R000001", ORG)
    today = utcnow().date()
    packets.mark_delivered(session, CAMPAIGN, packet.id, today, "emailed", None, ORG)
    before = (rollup_status_counts(session), session.execute(select(func.count()).select_from(AuditEvent))
              .scalar_one())
    with pytest.raises(packets.AlreadyDelivered):
        packets.mark_delivered(session, CAMPAIGN, packet.id, today, "mailed", "again", "other@example.org")
    session.expire_all()
    stored = session.get(Packet, packet.id)
    assert stored is not None and (stored.delivered_how, stored.delivered_by) == ("emailed", ORG)
    assert before == (rollup_status_counts(session), session.execute(
        select(func.count()).select_from(AuditEvent)).scalar_one())


@pytest.mark.parametrize(("on", "how", "packet", "error"), [
    (0, "carrier pigeon", None, packets.InvalidDelivery),
    (1, "emailed", None, packets.InvalidDelivery),  # tomorrow
    (-30, "emailed", None, packets.InvalidDelivery),  # before the packet was made
    (0, "emailed", 999, packets.UnknownPacket),
])
def test_mark_delivered_refuses_bad_input_with_nothing_changed(session: Session, on: int, how: str,
                                                               packet: int | None, error: type) -> None:
    write_letter(session, "a@example.org", (RITA,))
    made = packets.make_packet(session, CAMPAIGN, "R000001", ORG)
    with pytest.raises(error):
        packets.mark_delivered(session, CAMPAIGN, packet or made.id, utcnow().date() + timedelta(days=on),
                               how, None, ORG)
    with pytest.raises(packets.UnknownPacket):
        packets.mark_delivered(session, "other-campaign", made.id, utcnow().date(), "emailed", None, ORG)
    assert session.execute(select(Message.status)).scalars().all() == [QUEUED]
    session.expire_all()
    assert session.get(Packet, made.id).delivered_on is None  # type: ignore[union-attr]


def test_a_packet_downloads_the_same_after_its_letters_are_purged(session: Session) -> None:
    write_letter(session, "a@example.org", (RITA,), first="Zoë", last="O'Connor", words="Fund it.")
    packet = packets.make_packet(session, CAMPAIGN, "R000001", ORG)
    frozen = packets.packet_letters(packet)
    packets.mark_delivered(session, CAMPAIGN, packet.id, utcnow().date(), "mailed", None, ORG)
    result = purge.purge_personal_data(session, timedelta(0), now=utcnow() + timedelta(minutes=1))
    assert result.messages == 1
    assert session.execute(select(Message.constituent_text)).scalar_one() is None
    session.expire_all()
    again = session.get(Packet, packet.id)
    assert again is not None and packets.packet_letters(again) == frozen
    assert frozen[0]["last_name"] == "O'Connor" and frozen[0]["constituent_text"] == "Fund it."


def test_waiting_roll_ups_rebuild_to_the_same_values(session: Session) -> None:
    write_letter(session, "a@example.org", (RITA, WANDA), day=D1)
    write_letter(session, "b@example.org", (RON, WANDA), city="Twotown", zip_code="53002", day=D2)
    packets.make_packet(session, CAMPAIGN, "R000001", ORG)
    before = packets.waiting_by_member(session, CAMPAIGN)
    packet_counts.rebuild(session, CAMPAIGN)
    session.commit()
    assert packets.waiting_by_member(session, CAMPAIGN) == before


def _roster(today: date) -> Roster:
    """Return a roster where Max's term ended and everyone else of the support members sits."""
    return Roster(known=frozenset({"R000001", "R000002", "S000001", "S000004"}), ended=frozenset({"S000004"}),
                  as_of=date(2026, 6, 15), today=today)


def test_make_packet_ends_the_letters_of_a_member_who_left_office(session: Session) -> None:
    write_letter(session, "a@example.org", (MAX,))
    write_letter(session, "b@example.org", (RITA,))
    roster = _roster(utcnow().date())
    flagged = {m.bioguide: m.left_office for m in packets.waiting_by_member(session, CAMPAIGN, roster=roster)}
    assert flagged == {"S000004": True, "R000001": False}
    with pytest.raises(packets.MemberLeftOffice):
        packets.make_packet(session, CAMPAIGN, "S000004", ORG, roster=roster)
    ended = session.execute(select(Message.status, Message.last_error, Message.packet_id).where(
        Message.bioguide == "S000004")).one()
    assert tuple(ended) == (FAILED, LEFT_OFFICE, None)
    assert session.execute(select(func.count()).select_from(Packet)).scalar_one() == 0
    assert packets.left_office_count(session, CAMPAIGN) == 1
    assert packets.make_packet(session, CAMPAIGN, "R000001", ORG, roster=roster).letter_count == 1
    _assert_counts_exact(session)
    _assert_waiting_matches_recount(session)


def test_a_member_missing_from_a_dataset_newer_than_the_letter_has_left(session: Session) -> None:
    write_letter(session, "a@example.org", (RON,), day=datetime(2026, 6, 1, tzinfo=UTC))
    newer = Roster(known=frozenset({"R000001"}), ended=frozenset(), as_of=date(2026, 6, 15),
                   today=date(2026, 11, 30))
    older = Roster(known=frozenset({"R000001"}), ended=frozenset(), as_of=date(2026, 5, 1),
                   today=date(2026, 11, 30))
    assert newer.has_left("R000002", date(2026, 6, 1)) and not older.has_left("R000002", date(2026, 6, 1))
    packets.make_packet(session, CAMPAIGN, "R000002", ORG, roster=older)  # unknown to an older dataset: kept
    write_letter(session, "b@example.org", (RON,), day=datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(packets.MemberLeftOffice):
        packets.make_packet(session, CAMPAIGN, "R000002", ORG, roster=newer)


def test_office_report_counts_every_channel_and_lists_own_words_without_contact_details(
        session: Session) -> None:
    write_letter(session, "a@example.org", (RITA,), city="Oneville", words="Fentanyl took my brother.",
                 day=D1)
    write_letter(session, "b@example.org", (RITA,), channel="smtp", city="Twotown", zip_code="53002",
                 words=None, day=D2)
    write_letter(session, "c@example.org", (RITA,), channel="handoff", city="Oneville",
                 words="Call me at 608-555-0199 or jane@example.org.", day=D2)
    summary = packets.office_report(session, CAMPAIGN, "R000001")
    assert summary.member_name == "Rita One"
    assert summary.by_status == {**dict.fromkeys(STATUSES, 0), "queued": 2, "needs_constituent": 1}
    assert summary.written == 3 and (summary.first_day, summary.last_day) == (D1.date(), D2.date())
    assert sorted(summary.places) == [("Oneville", "WI", "53001", 2), ("Twotown", "WI", "53002", 1)]
    assert summary.own_words_count == 2
    assert summary.own_words == ("Call me at [phone] or [e-mail].", "Fentanyl took my brother.")
    text = repr(summary)
    assert "1 Main St" not in text and "@example.org" not in text and "608-555" not in text
    empty = packets.office_report(session, CAMPAIGN, "R000002")
    assert empty.written == 0 and empty.first_day is None and empty.own_words == ()


def test_a_packet_takes_at_most_its_limit_of_letters_oldest_first(session: Session) -> None:
    for i, day in enumerate((D2, D1, D2 + timedelta(days=1))):
        write_letter(session, f"l{i}@example.org", (RITA,), first=f"Person{i}", day=day)
    first = packets.make_packet(session, CAMPAIGN, "R000001", ORG, limit=2, now=D2 + timedelta(days=2))
    assert [x["first_name"] for x in packets.packet_letters(first)] == ["Person1", "Person0"]
    assert packets.waiting_by_member(session, CAMPAIGN)[0].letters == 1
    second = packets.make_packet(session, CAMPAIGN, "R000001", ORG, limit=2, now=D2 + timedelta(days=2))
    assert [x["first_name"] for x in packets.packet_letters(second)] == ["Person2"]
    _assert_waiting_matches_recount(session)


# 23:30 on 2 March in New York is 04:30 on 3 March in UTC: the organizer's day and the UTC day differ.
NEW_YORK = "America/New_York"
LATE_EVENING = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)


def test_the_delivery_day_is_the_campaigns_local_day_around_midnight(session: Session) -> None:
    write_letter(session, "a@example.org", (RITA,), day=LATE_EVENING - timedelta(hours=1))
    packet = packets.make_packet(session, CAMPAIGN, "R000001", ORG, now=LATE_EVENING)
    now = LATE_EVENING + timedelta(minutes=20)  # 23:50 on 2 March in New York
    # 3 March is tomorrow in New York, though it is today in UTC.
    with pytest.raises(packets.InvalidDelivery) as refused:
        packets.mark_delivered(session, CAMPAIGN, packet.id, date(2026, 3, 3), "mailed", None, ORG, now=now,
                               time_zone=NEW_YORK)
    assert refused.value.details["problem"] == "future"
    # 2 March, the packet's local day, is today: accepted (a UTC check would call it before the packet).
    assert packets.mark_delivered(session, CAMPAIGN, packet.id, date(2026, 3, 2), "mailed", None, ORG,
                                  now=now, time_zone=NEW_YORK) == 1
    delivered_at = session.execute(select(Message.delivered_at)).scalar_one()
    assert delivered_at.replace(tzinfo=UTC) == now  # delivered today: the moment it was recorded


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Auckland", "Pacific/Honolulu"])
def test_a_past_delivery_day_is_recorded_on_that_local_day(session: Session, zone: str) -> None:
    write_letter(session, "a@example.org", (RITA,), day=D1 - timedelta(days=3))
    packet = packets.make_packet(session, CAMPAIGN, "R000001", ORG, now=D1 - timedelta(days=3))
    on = local_day(D1, zone) - timedelta(days=1)
    packets.mark_delivered(session, CAMPAIGN, packet.id, on, "mailed", None, ORG, now=D1, time_zone=zone)
    delivered_at = session.execute(select(Message.delivered_at)).scalar_one()
    # Noon of that day where the campaign is (noon UTC is already the next day in Auckland).
    assert local_day(delivered_at, zone) == on and local(delivered_at, zone).hour == 12


def test_the_day_a_packet_was_made_is_its_local_day(session: Session) -> None:
    write_letter(session, "a@example.org", (RITA,), day=LATE_EVENING - timedelta(hours=1))
    packet = packets.make_packet(session, CAMPAIGN, "R000001", ORG, now=LATE_EVENING)
    with pytest.raises(packets.InvalidDelivery) as refused:  # 1 March: before the packet, in New York too
        packets.mark_delivered(session, CAMPAIGN, packet.id, date(2026, 3, 1), "mailed", None, ORG,
                               now=LATE_EVENING + timedelta(days=1), time_zone=NEW_YORK)
    assert refused.value.details == {"problem": "before_made", "made": date(2026, 3, 2)}
