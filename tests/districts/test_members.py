"""What each member carries for the receipt's fallbacks, and when a member has left office."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from tiny import CONTACT_FORMS, build_tiny, legislators, write_inputs

from actiontool.districts import Dataset, load


def test_every_member_carries_form_site_phone_and_term_end(tiny: Dataset) -> None:
    members = list(tiny.members())
    assert len(members) == 13
    assert all(m.term_end for m in members)
    assert all(m.url and m.phone for m in members if m.bioguide != "D000002")


def test_a_member_without_phone_site_or_form_has_none_of_them(tiny: Dataset) -> None:
    bare = tiny.member("D000002")
    assert (bare.phone, bare.url, bare.contact_form, bare.office_address) == (None, None, None, None)
    assert bare.term_end == "2027-01-03"
    assert tiny.lookup("96910").districts[0].member == bare


def test_the_term_end_comes_from_the_latest_term_through_the_build(tiny: Dataset) -> None:
    assert tiny.member("S000004").term_end == "2026-11-03"
    assert tiny.member("R000001").term_end == "2027-01-03"


@pytest.mark.parametrize(("today", "ended"), [
    (date(2026, 11, 2), False),
    (date(2026, 11, 3), True),  # the term ends at noon on its last day: nothing more is delivered that day
    (date(2026, 11, 30), True),
])
def test_a_term_ends_on_its_recorded_end_date(tiny: Dataset, today: date, ended: bool) -> None:
    assert tiny.member("S000004").term_ended(today) is ended
    assert tiny.left_office("S000004", today) is ended


def test_a_member_in_office_has_not_left(tiny: Dataset) -> None:
    assert not tiny.left_office("R000001", date(2027, 1, 2))
    assert tiny.left_office("R000001", date(2027, 1, 3))


def test_a_member_missing_from_a_newer_build_has_left_office(tmp_path: Path) -> None:
    people = legislators()
    successor = next(p for p in people if p["id"]["bioguide"] == "R000002")
    successor["id"]["bioguide"] = "R000099"  # WI-2 has a new member; R000002 is no longer listed
    build_tiny(write_inputs(tmp_path / "in", people=people, contact_forms=CONTACT_FORMS), tmp_path / "out")
    newer = load(tmp_path / "out")
    today = date(2026, 12, 1)
    assert newer.left_office("R000002", today)
    assert not newer.left_office("R000099", today)


def test_the_term_end_is_in_the_members_file_but_not_the_lookup_json(tiny_dir: Path, tiny: Dataset) -> None:
    raw = json.loads((tiny_dir / "members.json").read_text())["members"]
    assert raw["S000004"]["term_end"] == "2026-11-03"
    assert "term_end" not in tiny.member("S000004").to_json()


def test_an_appointee_whose_term_ends_by_special_election_still_sits() -> None:
    from datetime import date

    from actiontool.districts.model import SPECIAL_ELECTION, Member

    appointee = Member("S000009", "Ann Pointed", "Ann", "Pointed", "Senator", "Republican", "OH", None,
                       None, None, None, None, term_end="2026-11-03", term_end_type=SPECIAL_ELECTION)
    assert not appointee.term_ended(date(2026, 11, 30))
    assert Member(**{**_fields(appointee), "term_end_type": None}).term_ended(date(2026, 11, 30))


def test_the_bundled_appointees_have_not_left_office_after_their_special_election() -> None:
    from datetime import date

    from actiontool.districts import bundled

    data = bundled()
    appointees = [m for m in data.members() if m.term_end_type]
    assert {m.last_name for m in appointees} == {"Husted", "Moody"}
    assert not any(data.left_office(m.bioguide, date(2026, 11, 30)) for m in appointees)


def _fields(member: object) -> dict[str, object]:
    from dataclasses import fields

    return {f.name: getattr(member, f.name) for f in fields(member)}  # type: ignore[arg-type]
