"""A split ZIP's district from the street address (the Census geocoder's stand-in), the choice as the
fallback, and the district check at submit: every bad input gets a clear message and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool import create_app
from actiontool.config import ConfigError
from actiontool.models import Action, Message
from tests.geocoder.census_standin import CensusStandIn
from tests.web.flow_helpers import GOOD, SLUG, count, form_fields, page, rows, send, text_of

SPLIT = "53002"  # WI-1 and WI-2
CENSUS_SENTENCE = "We send it with your ZIP code to the US Census Bureau’s geocoder to find your district"


@pytest.fixture
def standin() -> Iterator[CensusStandIn]:
    server = CensusStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], standin: CensusStandIn) -> dict[str, Any]:
    return {**app_config, "GEOCODER": "census", "GEOCODER_URL": standin.url, "GEOCODER_TIMEOUT": 0.5}


def _find(client: FlaskClient, street: str, zip_code: str = SPLIT, **extra: str) -> Any:
    return client.post(f"/c/{SLUG}/members/address", data={"zip": zip_code, "address1": street, **extra})


def test_a_split_zip_asks_for_the_street_address_first_and_keeps_the_choice(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}/members?zip={SPLIT}&ref=abc")
    doc = page(response)
    assert CENSUS_SENTENCE in text_of(response)
    address = form_fields(doc, "/members/address")
    assert address == {"zip": SPLIT, "ref": "abc", "address1": ""}
    assert doc.xpath("//form[@id='address-form']/@method") == ["post"]
    assert doc.xpath("//input[@type='radio'][@name='district']/@value") == ["WI-1", "WI-2"]
    assert doc.xpath("//button[@id='use-location']")


def test_the_address_answers_with_the_district_and_fills_the_letter_form(
        app: Flask, client: FlaskClient, standin: CensusStandIn) -> None:
    response = _find(client, "12 Lake St", ref="abc")
    assert response.status_code == 200
    text = text_of(response)
    assert "We found your district from your street address: WI-2, Wisconsin’s 2nd congressional district." \
        in text
    fields = form_fields(page(response))
    assert (fields["district"], fields["basis"], fields["zip"], fields["lookup_zip"]) == ("WI-2", "address",
                                                                                          SPLIT, SPLIT)
    # The default campaign's letters are handed off: its form asks no street address, so the one typed
    # here served only to find the district and is not kept (the city is, and fills the form).
    assert "address1" not in fields and (fields["city"], fields["ref"]) == ("Twotown", "abc")
    assert [(r.query["street"], r.query["zip"], r.query["state"]) for r in standin.received] == [
        ("12 Lake St", SPLIT, "WI")]
    assert standin.problems() == []
    data = {**fields, **{k: v for k, v in GOOD.items() if k not in ("address1", "city", "zip")}, "send": "1"}
    assert client.post(f"/c/{SLUG}/send", data=data).status_code == 303
    actions, messages = rows(app)
    assert [(a.district_label, a.district_basis, a.address1 or None) for a in actions] == [("WI-2", "address",
                                                                                            None)]
    assert {m.bioguide for m in messages} == {"R000002", "S000001", "S000002"}


@pytest.mark.parametrize(("street", "mode", "sentence"), [
    ("9 Nowhere Rd", "ok", "We could not find that street address in ZIP code 53002."),
    ("7 Fork Rd", "ok", "That address matches places in more than one district."),
    ("3 North Ave", "ok", "That address is not in one of the districts of ZIP code 53002."),
    ("1 Pine Ct", "ok", "That address is not in one of the districts of ZIP code 53002."),
    ("12 Lake St", "500", "We could not look up your address just now."),
    ("12 Lake St", "not-json", "We could not look up your address just now."),
    ("12 Lake St", "hold", "We could not look up your address just now."),
])
def test_anything_but_one_of_the_zips_districts_falls_back_to_the_choice(
        app: Flask, client: FlaskClient, standin: CensusStandIn, street: str, mode: str,
        sentence: str) -> None:
    standin.mode = mode
    response = _find(client, street)
    standin.release.set()
    assert response.status_code == 200
    doc = page(response)
    assert sentence in " ".join(doc.xpath("//p[@id='address-note']")[0].text_content().split())
    assert doc.xpath("//input[@type='radio'][@name='district']/@value") == ["WI-1", "WI-2"]
    assert doc.xpath("//input[@id='address1']/@value") == [street]  # kept, to correct it
    assert not doc.xpath("//form[contains(@action, '/send')]")
    assert count(app, Action) == 0 and standin.problems() == []


@pytest.mark.parametrize(("street", "message"), [
    ("", "Enter your street address."),
    ("   ", "Enter your street address."),
    ("12 Lake St\r\nX-Header: 1", "Use one line, without line breaks or special characters."),
    ("12 Lake\x00 St", "Use one line, without line breaks or special characters."),
    ("1" * 5000, "Keep the street address under 200 characters."),
])
def test_a_bad_address_gets_a_clear_message_and_is_not_sent(
        app: Flask, client: FlaskClient, standin: CensusStandIn, street: str, message: str) -> None:
    response = _find(client, street)
    assert response.status_code == 422
    doc = page(response)
    assert message in " ".join(doc.xpath("//p[@id='address1-error']")[0].text_content().split())
    assert doc.xpath("//*[@id='error-summary']//a[@href='#address1']")
    assert standin.received == [] and count(app, Action) == 0


@pytest.mark.parametrize("street", ["12 Lake St 🏠", "شارع ١٢"])
def test_emoji_and_rtl_text_are_sent_as_typed(client: FlaskClient, standin: CensusStandIn,
                                              street: str) -> None:
    response = _find(client, street)
    assert "We could not find that street address" in text_of(response)
    assert [r.query["street"] for r in standin.received] == [street]


def test_a_zip_with_one_district_does_not_ask_for_the_address(client: FlaskClient,
                                                               standin: CensusStandIn) -> None:
    assert "Find your district" not in text_of(client.get(f"/c/{SLUG}/members?zip=53001"))
    response = _find(client, "12 Lake St", zip_code="53001")
    assert response.status_code == 303 and "/members?zip=53001" in response.headers["Location"]
    assert standin.received == []


def test_a_bad_zip_on_the_address_step_goes_back_to_the_zip(client: FlaskClient) -> None:
    response = _find(client, "12 Lake St", zip_code="5300")
    assert response.status_code == 422
    assert "Enter a five-digit ZIP code" in text_of(response)


# -- the district check at submit ------------------------------------------------------------------------

def _send_split(client: FlaskClient, **changes: str) -> Any:
    return send(client, SPLIT, query="&district=WI-2", **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"zip": "53001"}, "ZIP code 53001 is not in your district WI-2."),  # WI-1 only
    ({"zip": "53003"}, "ZIP code 53003 is not in your district WI-2."),  # WI-3 only
    ({"zip": "20001"}, "ZIP code 20001 is not in WI, where your district WI-2 is."),  # another state
    ({"zip": "99501"}, "ZIP code 99501 is not in WI, where your district WI-2 is."),
])
def test_the_address_must_reach_the_chosen_district(app: Flask, client: FlaskClient, changes: dict[str, str],
                                                    message: str) -> None:
    response = _send_split(client, **changes)
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(app, Action) == 0 and count(app, Message) == 0


def test_the_looked_up_zip_and_a_zip_that_reaches_the_district_are_accepted(app: Flask,
                                                                           client: FlaskClient) -> None:
    assert _send_split(client, zip=SPLIT).status_code == 303
    assert send(client, "53001", zip="53002", email="b@example.com").status_code == 303  # 53002 reaches WI-1
    assert [a.district_label for a in rows(app)[0]] == ["WI-2", "WI-1"]


def test_a_district_of_the_state_the_lookup_zip_cannot_reach_is_refused(app: Flask,
                                                                        client: FlaskClient) -> None:
    # The case: looked up by one ZIP, a district of the state it does not reach, another ZIP.
    fields = form_fields(page(client.get(f"/c/{SLUG}/members?zip=53001")))
    response = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "district": "WI-3", "zip": "53003",
                                                    "lookup_zip": "53001", "send": "1"})
    assert response.status_code == 422
    assert "The district sent is not the district of ZIP code 53001, WI-1." in text_of(response)
    assert count(app, Action) == 0


@pytest.mark.parametrize("label", ["WI-3", "WI-9", "MN-1", "wi-2", "WI-2 ", "<b>WI-2</b>",
                                   "WI-2\r\nWI-1", "ويسكونسن", "🏛️", "W" * 5000, ""])
def test_a_forged_district_on_a_split_zip_asks_again_and_writes_nothing(app: Flask, client: FlaskClient,
                                                                       label: str) -> None:
    response = _send_split(client, district=label)
    assert response.status_code == 422
    doc = page(response)
    assert "The district sent is not one of the districts of ZIP code 53002." in text_of(response)
    assert doc.xpath("//input[@type='radio'][@name='district']/@value") == ["WI-1", "WI-2"]
    assert count(app, Action) == 0 and count(app, Message) == 0


@pytest.mark.parametrize("label", ["WI-2", "XX-1", "<i>"])
def test_a_forged_district_on_a_zip_with_one_district_is_an_error(app: Flask, client: FlaskClient,
                                                                  label: str) -> None:
    response = send(client, "53001", district=label)
    assert response.status_code == 422
    doc = page(response)
    assert "The district sent is not the district of ZIP code 53001, WI-1." in " ".join(
        doc.xpath("//*[@id='error-summary']")[0].text_content().split())
    assert form_fields(doc)["district"] == "WI-1"
    assert count(app, Action) == 0


# -- how the district was decided --------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "posted", "basis"), [
    ("&district=WI-2", None, "choice"),
    ("&district=WI-2&basis=location", None, "location"),
    ("&district=WI-2&basis=address", None, "choice"),  # only the geocoder decides "address"
    ("&district=WI-2", "zip", "choice"),  # a split ZIP is never decided by the ZIP
    ("&district=WI-2", "coordinates", "choice"),
])
def test_the_basis_is_stored_with_the_district(app: Flask, client: FlaskClient, query: str,
                                               posted: str | None, basis: str) -> None:
    extra = {"basis": posted} if posted else {}
    assert send(client, SPLIT, query=query, **extra).status_code == 303
    assert [(a.district_label, a.district_basis) for a in rows(app)[0]] == [("WI-2", basis)]


def test_a_zip_with_one_district_is_stored_as_decided_by_the_zip(app: Flask, client: FlaskClient) -> None:
    assert send(client, "53001", basis="address").status_code == 303
    assert [(a.district_label, a.district_basis) for a in rows(app)[0]] == [("WI-1", "zip")]


# -- off ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting", [None, "off"])
def test_with_the_geocoder_off_the_choice_is_the_step_and_nothing_is_sent(
        app_config: dict[str, Any], standin: CensusStandIn, setting: str | None) -> None:
    config = {k: v for k, v in app_config.items() if k != "GEOCODER"}
    if setting:
        config["GEOCODER"] = setting
    client = create_app(config).test_client()
    response = client.get(f"/c/{SLUG}/members?zip={SPLIT}")
    text = text_of(response)
    assert "Which district do you live in?" in text and "Census" not in text
    assert not page(response).xpath("//form[@id='address-form']")
    posted = _find(client, "12 Lake St")
    assert posted.status_code == 303 and f"/members?zip={SPLIT}" in posted.headers["Location"]
    assert standin.received == []


def test_an_unknown_geocoder_setting_stops_the_start(app_config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="ACTIONTOOL_GEOCODER="):
        create_app({**app_config, "GEOCODER": "google"})


def test_the_address_step_in_spanish(client: FlaskClient, standin: CensusStandIn) -> None:
    text = text_of(client.get(f"/c/{SLUG}/members?zip={SPLIT}&lang=es"))
    assert "Oficina del Censo" in text
    standin.mode = "500"
    response = client.post(f"/c/{SLUG}/members/address?lang=es",
                           data={"zip": SPLIT, "address1": "12 Lake St"})
    assert "No pudimos buscar su dirección en este momento." in text_of(response)
