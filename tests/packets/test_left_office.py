"""No letter reaches a member who has left office: the worker ends it failed with a stable reason."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import select

from actiontool import db
from actiontool.delivery.worker import AppRoster, Worker
from actiontool.districts import load
from actiontool.districts.tenure import Roster, term_has_ended
from actiontool.models import FAILED, LEFT_OFFICE, NEEDS_CONSTITUENT, QUEUED, Message
from actiontool.services import packets
from tests.packets.support import MAX, RITA, brute_status_counts, rollup_status_counts, write_letter

GONE = ("G000001", "Gone Member", "Representative", "house", "WI", 2)  # not in the tiny dataset


def _statuses(app: Flask) -> dict[tuple[str, str], tuple[str, str | None]]:
    with db.session_scope(app) as session:
        rows = session.execute(select(Message.bioguide, Message.channel, Message.status, Message.last_error))
        return {(b, c): (s, e) for b, c, s, e in rows}


def test_the_tiny_dataset_has_a_member_whose_term_ended(tiny_dir: object) -> None:
    dataset = load(tiny_dir)  # type: ignore[arg-type]
    member = dataset.member("S000004")
    assert member is not None and member.term_end == "2026-11-03"
    assert term_has_ended(member, date(2026, 11, 4)) and not term_has_ended(member, date(2026, 11, 3))
    roster = Roster.from_members(dataset.members(), date(2026, 6, 15), date(2026, 11, 4))
    assert roster.has_left("S000004", date(2026, 11, 1)) and not roster.has_left("R000001", date(2026, 11, 1))


def test_the_worker_ends_letters_to_members_who_left_and_never_claims_packet_letters(app: Flask) -> None:
    with db.session_scope(app) as session:
        write_letter(session, "a@example.org", (RITA, MAX), channel="cwc")
        # Written before the dataset's as_of date, to a member that dataset no longer lists.
        write_letter(session, "b@example.org", (GONE,), channel="cwc", day=datetime(2026, 6, 1, tzinfo=UTC))
        write_letter(session, "c@example.org", (RITA,), channel="packet")
    worker = Worker(app, roster=AppRoster(app))
    worker.run(once=True)
    statuses = _statuses(app)
    assert statuses[("S000004", "cwc")] == (FAILED, LEFT_OFFICE)
    assert statuses[("G000001", "cwc")] == (FAILED, LEFT_OFFICE)
    assert statuses[("R000001", "cwc")][0] == NEEDS_CONSTITUENT  # cwc is not configured: back to the person
    assert statuses[("R000001", "packet")] == (QUEUED, None)  # packet letters wait for the organization
    with db.session_scope(app) as session:
        assert packets.left_office_count(session, "packets-test") == 2


def test_the_delivery_page_shows_the_left_office_reason(app: Flask, signed_in: object) -> None:
    with db.session_scope(app) as session:
        write_letter(session, "a@example.org", (MAX,), channel="cwc")
    Worker(app).run(once=True)
    page = signed_in.get("/organizer/c/packets-test/delivery").get_data(as_text=True)  # type: ignore[attr-defined]
    assert LEFT_OFFICE in page


def test_the_worker_ends_unclaimed_hand_off_and_packet_letters_to_members_who_left(app: Flask) -> None:
    with db.session_scope(app) as session:
        write_letter(session, "a@example.org", (MAX, RITA), channel="handoff")
        write_letter(session, "b@example.org", (MAX, RITA), channel="packet")
        for email, month in (("c@example.org", 6), ("d@example.org", 7)):
            # Noon UTC: the same day in the campaign's local time zone (days are local, America/New_York).
            noon = datetime(2026, month, 1, 16, tzinfo=UTC)
            write_letter(session, email, (GONE,), channel="handoff", day=noon)
    Worker(app).run(once=True)
    statuses = _statuses(app)
    assert statuses[("S000004", "handoff")] == (FAILED, LEFT_OFFICE)
    assert statuses[("S000004", "packet")] == (FAILED, LEFT_OFFICE)
    assert statuses[("R000001", "handoff")] == (NEEDS_CONSTITUENT, None)
    assert statuses[("R000001", "packet")] == (QUEUED, None)
    with db.session_scope(app) as session:
        gone = dict(session.execute(select(Message.created_day, Message.status)
                                    .where(Message.bioguide == "G000001")).all())
        # Only the letter older than the dataset (as of 2026-06-15) was written to a member it dropped.
        assert gone == {date(2026, 6, 1): FAILED, date(2026, 7, 1): NEEDS_CONSTITUENT}
        assert [m.bioguide for m in packets.waiting_by_member(session, "packets-test")] == ["R000001"]
        assert rollup_status_counts(session) == brute_status_counts(session)


def test_an_appointee_whose_term_ends_by_special_election_is_still_in_office_after_that_date() -> None:
    # Jon Husted and Ashley Moody in the bundled data: recorded end 2026-11-03, type special-election.
    from dataclasses import replace

    from actiontool.districts import bundled

    husted = bundled().member("H001104")
    assert husted is not None
    assert (husted.term_end, husted.term_end_type) == ("2026-11-03", "special-election")
    assert not term_has_ended(husted, date(2026, 11, 30))
    assert term_has_ended(replace(husted, term_end_type=None), date(2026, 11, 30))
    roster = Roster.from_members([husted], date(2026, 11, 1), date(2026, 11, 30))
    assert not roster.has_left("H001104", date(2026, 11, 20))
