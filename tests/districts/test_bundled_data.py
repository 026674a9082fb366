"""A few checks against the real bundled 119th-Congress data, on cases whose answers are public facts."""

from __future__ import annotations

from datetime import date

import pytest

from actiontool import districts
from actiontool.districts.checks import check_dataset


@pytest.fixture(scope="module")
def real() -> districts.Dataset:
    return districts.bundled()


def labels(result: districts.Lookup) -> list[str]:
    return [d.label for d in result.districts]


def test_a_split_manhattan_zip_lists_both_districts(real: districts.Dataset) -> None:
    result = real.lookup("10001")
    assert result.status == "ambiguous"
    assert labels(result) == ["NY-10", "NY-12"]
    assert len(result.senators) == 2


def test_anchorage_is_alaska_at_large(real: districts.Dataset) -> None:
    result = districts.lookup("99501")
    assert (result.status, labels(result), result.city) == ("exact", ["AK-AL"], "Anchorage")
    assert len(result.senators) == 2


def test_dc_has_its_delegate_and_no_senators(real: districts.Dataset) -> None:
    result = real.lookup("20001")
    assert labels(result) == ["DC-AL"]
    assert result.districts[0].member.title == "Delegate"
    assert result.senators == ()


def test_san_juan_has_the_resident_commissioner(real: districts.Dataset) -> None:
    result = real.lookup("00901")
    assert labels(result) == ["PR-AL"]
    assert result.districts[0].member.title == "Resident Commissioner"
    assert result.senators == ()


def test_guam_has_no_zcta_and_resolves_by_territory(real: districts.Dataset) -> None:
    result = real.lookup("96910")
    assert (result.status, result.basis, labels(result)) == ("approximate", "state", ["GU-AL"])
    assert result.districts[0].member.title == "Delegate"


def test_the_white_house_zip_is_approximate(real: districts.Dataset) -> None:
    result = real.lookup("20500")
    assert (result.status, labels(result), result.senators) == ("approximate", ["DC-AL"], ())


def test_the_four_known_vacancies_are_vacant(real: districts.Dataset) -> None:
    assert [d.label for d in real.vacancies()] == ["CA-14", "FL-20", "GA-13", "TX-23"]


def test_the_appointed_senators_are_kept(real: districts.Dataset) -> None:
    assert {"H001104", "M001244"} <= {m.bioguide for m in real.members()}
    assert len(real.senators("OH")) == len(real.senators("FL")) == 2


def test_there_are_441_seats_and_100_senators(real: districts.Dataset) -> None:
    assert len(real.house_seats()) == 441
    assert sum(len(s) for s in real.senate().values()) == 100


def test_a_point_in_madison_is_wisconsin_2(real: districts.Dataset) -> None:
    result = districts.lookup_point(43.0747, -89.3841)
    assert labels(result)[0] == "WI-2"


def test_the_bundled_data_passes_its_checks_before_the_congress_ends(real: districts.Dataset) -> None:
    report = check_dataset(real, today=date(2026, 11, 27))
    assert report.errors == []
    assert not report.congress_ended
    assert sum("is vacant" in w for w in report.warnings) == 4


def test_the_checks_warn_once_the_congress_has_ended(real: districts.Dataset) -> None:
    report = check_dataset(real, today=date(2027, 1, 4))
    assert report.congress_ended
    assert any("119th Congress ended on 2027-01-03" in w for w in report.warnings)


def test_a_madison_po_box_zip_is_placed_by_its_coordinates(real: districts.Dataset) -> None:
    result = real.lookup("53701")
    assert (result.status, result.basis, labels(result)) == ("approximate", "coordinates", ["WI-2"])
    assert result.city == "Madison"


def test_every_zip_in_the_bundle_answers(real: districts.Dataset) -> None:
    statuses = {real.lookup(z).status for z in real.zip_codes()}
    assert statuses == {"exact", "ambiguous", "approximate"}


def test_belle_fourche_lists_south_dakota_although_its_zcta_lies_in_montana_and_wyoming(
    real: districts.Dataset,
) -> None:
    result = real.lookup("57717")
    assert result.state == "SD"
    assert labels(result) == ["SD-AL", "MT-2", "WY-AL"]
    assert {s.state for s in result.senators} == {"SD", "MT", "WY"}


def test_every_senator_has_a_contact_form_and_every_form_is_a_web_address(real: districts.Dataset) -> None:
    senators = [m for ms in real.senate().values() for m in ms]
    assert all(m.contact_form for m in senators)
    forms = [m.contact_form for m in real.members() if m.contact_form]
    assert all(f.startswith(("https://", "http://")) for f in forms)


def test_the_manifest_names_contact_congress_and_its_snapshot(real: districts.Dataset) -> None:
    source = real.manifest["sources"]["contact_forms"]
    assert source["license"].startswith("CC0-1.0")
    assert source["version"].startswith("main 6c4c16dd616e4a0e3dcba3c5f35e1e69ac345e3e")
    assert source["date"] == "2026-08-13"
