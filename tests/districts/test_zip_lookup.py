"""ZIP lookups on the tiny dataset: every status and basis, territories, two states, vacancies, errors."""

from __future__ import annotations

import pytest

from actiontool.districts import Dataset, InvalidZip, NotFound


def labels(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.label for d in result.districts]


def test_one_district_is_exact(tiny: Dataset) -> None:
    result = tiny.lookup("53001")
    assert (result.status, result.basis, labels(result)) == ("exact", "zcta", ["WI-1"])
    assert (result.city, result.state) == ("Oneville", "WI")
    assert result.districts[0].member.name == "Rita One"
    assert [s.title for s in result.senators] == ["Senator", "Senator"]


def test_zip_plus_four_gives_the_same_answer(tiny: Dataset) -> None:
    assert tiny.lookup(" 53001-1234 ") == tiny.lookup("53001")
    assert tiny.lookup("530011234").query == {"zip": "53001"}


def test_several_districts_are_ambiguous_and_every_one_is_listed(tiny: Dataset) -> None:
    result = tiny.lookup("53002")
    assert result.status == "ambiguous"
    assert labels(result) == ["WI-1", "WI-2"]
    assert all(d.member is not None for d in result.districts)


def test_a_zip_in_two_states_has_the_senators_of_both(tiny: Dataset) -> None:
    result = tiny.lookup("56001")
    assert result.status == "ambiguous"
    assert result.state == "MN"
    assert result.states == ("MN", "WI")
    assert labels(result) == ["MN-1", "WI-1"]  # the ZIP's own state first
    assert {s.state for s in result.senators} == {"MN", "WI"}
    assert len(result.senators) == 4


def test_a_zip_whose_tabulation_area_is_in_another_state_also_lists_its_postal_state(tiny: Dataset) -> None:
    result = tiny.lookup("54999")
    assert (result.status, result.basis, result.state) == ("ambiguous", "zcta", "WI")
    assert labels(result) == ["WI-1", "MN-1"]
    assert {s.state for s in result.senators} == {"MN", "WI"}


def test_a_vacant_seat_is_an_explicit_district_without_member(tiny: Dataset) -> None:
    result = tiny.lookup("53003")
    assert result.status == "exact"
    assert result.districts[0].vacant
    assert result.to_json()["districts"][0]["member"] is None
    assert len(result.senators) == 2
    assert result.members() == result.senators


def test_an_appointed_senator_past_the_recorded_term_end_is_kept(tiny: Dataset) -> None:
    assert "Max Appointed" in [s.name for s in tiny.senators("MN")]


def test_an_at_large_seat_is_district_zero_labelled_al(tiny: Dataset) -> None:
    district = tiny.lookup("99501").districts[0]
    assert (district.state, district.district, district.label) == ("AK", 0, "AK-AL")
    assert district.member.title == "Representative"


def test_dc_has_a_delegate_and_no_senators(tiny: Dataset) -> None:
    result = tiny.lookup("20001")
    assert labels(result) == ["DC-AL"]
    assert result.districts[0].member.title == "Delegate"
    assert result.senators == ()


def test_a_member_without_official_full_name_is_named_from_first_and_last(tiny: Dataset) -> None:
    assert tiny.member("D000001").name == "Dee Capitol"


def test_a_zip_without_zcta_is_placed_by_its_coordinates(tiny: Dataset) -> None:
    result = tiny.lookup("53099")
    assert (result.status, result.basis, labels(result)) == ("approximate", "coordinates", ["WI-1"])


def test_a_zip_placed_near_a_district_line_lists_the_neighbour_too(tiny: Dataset) -> None:
    result = tiny.lookup("53098")
    assert (result.status, result.basis, labels(result)) == ("approximate", "coordinates", ["WI-1", "WI-2"])


@pytest.mark.parametrize(("zip_code", "label"), [("99599", "AK-AL"), ("20500", "DC-AL"), ("96910", "GU-AL")])
def test_a_zip_without_zcta_in_a_single_seat_state_is_placed_by_state(
    tiny: Dataset, zip_code: str, label: str
) -> None:
    result = tiny.lookup(zip_code)
    assert (result.status, result.basis, labels(result)) == ("approximate", "state", [label])


def test_guam_has_a_delegate_and_no_senators(tiny: Dataset) -> None:
    result = tiny.lookup("96910")
    assert result.districts[0].member.title == "Delegate"
    assert (result.city, result.state, result.senators) == ("Hagatna", "GU", ())


@pytest.mark.parametrize("zip_code", ["00000", "53097", "09001"])
def test_a_well_formed_zip_that_no_district_covers_is_not_found(tiny: Dataset, zip_code: str) -> None:
    with pytest.raises(NotFound):
        tiny.lookup(zip_code)


@pytest.mark.parametrize("text", ["", "5300", "abcde", "53001-12"])
def test_invalid_input_raises_invalid_zip(tiny: Dataset, text: str) -> None:
    with pytest.raises(InvalidZip):
        tiny.lookup(text)


def test_json_follows_the_contract(tiny: Dataset) -> None:
    body = tiny.lookup("53002").to_json()
    assert set(body) >= {"query", "status", "city", "state", "districts", "senators", "data"}
    assert body["data"] == {"as_of": "2026-06-15", "congress": 119}
    assert body["districts"][0] == {"state": "WI", "district": 1, "label": "WI-1",
                                    "member": tiny.member("R000001").to_json()}
    assert set(body["senators"][0]) == {"bioguide", "name", "first_name", "last_name", "title", "party",
                                        "state", "district", "phone", "url", "contact_form", "office_address"}
    assert body["senators"][0]["district"] is None


def test_seats_senators_and_members_are_all_listed(tiny: Dataset) -> None:
    seats = tiny.house_seats()
    assert len(seats) == 8
    assert seats[("WI", 3)] is None
    assert seats[("GU", 0)].name == "Gus Island"
    assert [d.label for d in tiny.vacancies()] == ["WI-3"]
    assert len(list(tiny.members())) == 13
    assert tiny.member("nobody") is None
    assert tiny.senators("DC") == ()


def test_local_offices_of_current_members_are_kept(tiny: Dataset) -> None:
    (office,) = tiny.offices("R000001")
    assert office.one_line() == "1 Main St., Federal Building, Suite 2, Oneville, WI 53001"
    assert (office.phone, office.lat, office.lon) == ("608-555-0100", 43.5, -89.5)
    assert tiny.offices("X000000") == ()  # not a current member
    assert tiny.offices("S000001") == ()
