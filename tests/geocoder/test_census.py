"""The Census geocoder client against the local stand-in, and the judgement of its answers (no Flask)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actiontool.compose import FOUND, NO_MATCH, OUTSIDE, SEVERAL, district_from_address
from actiontool.districts import District, Lookup
from actiontool.districts.model import DataInfo
from actiontool.geocoder import (
    CENSUS_URL,
    Address,
    GeocoderError,
    from_settings,
    settings_from_config,
)
from actiontool.geocoder.census import CensusGeocoder, labels_of
from tests.geocoder.census_standin import CensusStandIn, answer


@pytest.fixture
def standin() -> Iterator[CensusStandIn]:
    server = CensusStandIn().start()
    yield server
    server.stop()


def _geocoder(standin: CensusStandIn, timeout: float = 2.0) -> CensusGeocoder:
    return CensusGeocoder(standin.url, timeout=timeout)


ADDRESS = Address(street="12 Lake St", city="", state="WI", zip="53002")


def test_a_match_names_its_district_and_the_request_is_as_documented(standin: CensusStandIn) -> None:
    assert _geocoder(standin).districts(ADDRESS) == ("WI-2",)
    assert standin.problems() == []
    [request] = standin.received
    assert request.query == {"street": "12 Lake St", "state": "WI", "zip": "53002",
                             "benchmark": "Public_AR_Current", "vintage": "Current_Current", "format": "json"}


def test_no_match_and_several_matches(standin: CensusStandIn) -> None:
    geocoder = _geocoder(standin)
    assert geocoder.districts(Address("9 Nowhere Rd", "", "WI", "53002")) == ()
    assert geocoder.districts(Address("7 Fork Rd", "", "WI", "53002")) == ("WI-1", "WI-2")
    assert standin.problems() == []


@pytest.mark.parametrize("mode", ["500", "not-json"])
def test_a_server_error_or_an_unreadable_answer_is_a_geocoder_error(standin: CensusStandIn,
                                                                    mode: str) -> None:
    standin.mode = mode
    with pytest.raises(GeocoderError):
        _geocoder(standin).districts(ADDRESS)


def test_a_failure_does_not_quote_the_address(standin: CensusStandIn) -> None:
    standin.mode = "500"
    with pytest.raises(GeocoderError) as failure:
        _geocoder(standin).districts(ADDRESS)
    assert str(failure.value) == "HTTPError (HTTP 500)"
    assert "Lake" not in repr(failure.value) and failure.value.__cause__ is None


def test_a_slow_answer_is_a_geocoder_error_after_the_timeout(standin: CensusStandIn) -> None:
    standin.mode = "hold"
    with pytest.raises(GeocoderError, match="Timeout"):
        _geocoder(standin, timeout=0.3).districts(ADDRESS)


def test_an_unreachable_geocoder_is_a_geocoder_error() -> None:
    with pytest.raises(GeocoderError):
        CensusGeocoder("http://127.0.0.1:9", timeout=1).districts(ADDRESS)


@pytest.mark.parametrize(("label", "code"), [("AK-AL", "00"), ("DC-AL", "98"), ("PR-AL", "98"),
                                             ("WI-2", "02")])
def test_at_large_and_delegate_codes_read_as_at_large(label: str, code: str) -> None:
    body = answer({"street": "12 lake st", "zip": "53002"})
    entry = body["result"]["addressMatches"][0]["geographies"]["119th Congressional Districts"][0]
    from tests.geocoder.census_standin import district_entry

    entry.update(district_entry(label))
    assert entry["CD119"] == code
    assert labels_of(body) == (label,)


@pytest.mark.parametrize("body", [
    {},
    {"result": {}},
    {"result": {"addressMatches": [{"geographies": {}}]}},  # no congressional district layer
    {"result": {"addressMatches": [{"geographies": {"119th Congressional Districts": [
        {"STATE": "99", "CD119": "01", "GEOID": "9901"}]}}]}},  # no such state
    {"result": {"addressMatches": [{"geographies": {"119th Congressional Districts": [
        {"STATE": "55", "CD119": "xx", "GEOID": "55xx"}]}}]}},
    [],
])
def test_an_answer_of_another_shape_is_a_geocoder_error(body: object) -> None:
    with pytest.raises(GeocoderError):
        labels_of(body)


def test_a_later_congress_layer_is_read_too() -> None:
    body = {"result": {"addressMatches": [{"geographies": {"120th Congressional Districts": [
        {"STATE": "55", "CD120": "03", "GEOID": "5503"}]}}]}}
    assert labels_of(body) == ("WI-3",)


def _lookup(*labels: str) -> Lookup:
    districts = tuple(District(label.split("-")[0], int(label.split("-")[1]), None) for label in labels)
    return Lookup(query={"zip": "53002"}, status="ambiguous", city="Twotown", state="WI", districts=districts,
                  senators=(), data=DataInfo(as_of="2026-06-15", congress=119, congress_ends="2027-01-03"))


@pytest.mark.parametrize(("labels", "outcome", "found"), [
    (("WI-2",), FOUND, "WI-2"),
    (("WI-2", "WI-2"), FOUND, "WI-2"),  # two matches, one district: settled
    ((), NO_MATCH, None),
    (("WI-1", "WI-2"), SEVERAL, None),
    (("WI-3",), OUTSIDE, None),  # the bundled data stays the authority on the ZIP's seats
    (("MN-1",), OUTSIDE, None),
])
def test_the_answer_counts_only_when_it_is_one_of_the_zips_districts(
        labels: tuple[str, ...], outcome: str, found: str | None) -> None:
    answer_ = district_from_address(_lookup("WI-1", "WI-2"), labels)
    assert answer_.outcome == outcome
    assert (answer_.district.label if answer_.district else None) == found


def test_settings_default_to_off_and_refuse_an_unknown_mode() -> None:
    settings = settings_from_config({})
    assert settings.mode == "off" and settings.url == CENSUS_URL and settings.timeout == 3.0
    assert from_settings(settings) is None
    assert isinstance(from_settings(settings_from_config({"GEOCODER": "census"})), CensusGeocoder)
    with pytest.raises(ValueError, match="ACTIONTOOL_GEOCODER="):
        settings_from_config({"GEOCODER": "google"})
    with pytest.raises(ValueError, match="ACTIONTOOL_GEOCODER_TIMEOUT"):
        settings_from_config({"GEOCODER": "census", "GEOCODER_TIMEOUT": -1})
