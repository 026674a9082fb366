"""Seat labels and Congress names, written and read in one place for the whole tool."""

from __future__ import annotations

import pytest

from actiontool.districts import DataInfo, district_label, ordinal, parse_label
from actiontool.services import stats


@pytest.mark.parametrize(("number", "name"), [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
    (21, "21st"), (101, "101st"), (111, "111th"), (112, "112th"), (119, "119th"), (120, "120th"),
    (121, "121st"), (122, "122nd"), (123, "123rd"),
])
def test_a_congress_number_is_written_as_its_ordinal(number: int, name: str) -> None:
    assert ordinal(number) == name


def test_the_data_names_its_congress() -> None:
    info = DataInfo(as_of="2027-02-01", congress=120, congress_ends="2029-01-03")
    assert info.congress_name == "120th Congress"


@pytest.mark.parametrize(("state", "district", "label"),
                         [("OH", 3, "OH-3"), ("AK", 0, "AK-AL"), ("CA", 52, "CA-52")])
def test_a_label_reads_back_as_the_seat_it_was_written_from(state: str, district: int, label: str) -> None:
    assert district_label(state, district) == label
    assert parse_label(label) == (state, district)


def test_the_counts_label_a_senators_row_with_no_district() -> None:
    assert stats.district_label("OH", None) is None
    assert stats.district_label("AK", 0) == "AK-AL"
