"""The constituent flow through Flask's test client: ZIP -> members -> letter -> submit -> receipt."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool.models import HANDED_OFF, NEEDS_CONSTITUENT, QUEUED, Action, Message
from actiontool.resources import data_dir
from actiontool.services.submit import constituent_key
from actiontool.timezones import local_day
from tests.web.flow_helpers import (
    GOOD,
    SLUG,
    campaign_variant,
    compose,
    count,
    form_fields,
    page,
    rows,
    send,
    text_of,
)


@pytest.fixture
def campaigns_dir(tmp_path: Path, app_config: dict[str, Any]) -> Path:
    """A campaigns folder with the default campaign, for tests that add variants before the app starts."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    shutil.copy(data_dir() / "campaigns" / f"{SLUG}.yaml", folder)
    app_config["CAMPAIGNS_DIR"] = str(folder)
    return folder


@pytest.fixture
def add_campaign(campaigns_dir: Path, app: Flask) -> Any:
    """Return a function that writes a variant of the default campaign and reloads the app's campaigns."""
    from actiontool import registry

    def add(slug: str, **replace: str) -> None:
        campaign_variant(campaigns_dir, slug, **replace)
        registry.init_app(app)

    return add


# -- campaign page ------------------------------------------------------------------------------------

def test_home_goes_straight_to_the_only_live_campaign_keeping_ref(client: FlaskClient) -> None:
    response = client.get("/?ref=partner_1")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/c/{SLUG}?ref=partner_1"


def test_home_lists_live_campaigns_when_there_are_several(add_campaign: Any, client: FlaskClient) -> None:
    add_campaign("second")
    add_campaign("hidden", **{"status: live": "status: draft"})
    response = client.get("/")
    assert response.status_code == 200
    links = page(response).xpath("//main//a/@href")
    assert f"/c/{SLUG}" in links and "/c/second" in links and "/c/hidden" not in links


def test_campaign_page_shows_title_ask_background_counter_and_zip_form(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}")
    assert response.status_code == 200
    text = text_of(response)
    assert 'Pass the "Detect and Defeat" proposal to stop fentanyl' in text
    assert "74,702" in text and "13,176 kilograms" in text and "United Against Fentanyl" in text
    assert "0 letters written toward our goal of 10,000" in text
    doc = page(response)
    assert doc.xpath("//form[@method='get']//input[@name='zip']")
    assert doc.xpath("//label[@for='zip']")


def test_counter_counts_messages_written(app: Flask, client: FlaskClient) -> None:
    send(client)
    assert "3 letters written toward our goal" in text_of(client.get(f"/c/{SLUG}"))


def test_unknown_campaign_is_404(client: FlaskClient) -> None:
    response = client.get("/c/no-such-campaign")
    assert response.status_code == 404
    assert "Page not found" in text_of(response)


def test_draft_campaign_is_not_public(add_campaign: Any, client: FlaskClient) -> None:
    add_campaign("drafty", **{"status: live": "status: draft"})
    assert client.get("/c/drafty").status_code == 404
    assert client.get("/c/drafty/members?zip=53001").status_code == 404
    assert client.post("/c/drafty/send", data=GOOD).status_code == 404


def test_closed_campaign_says_so_and_has_no_form(add_campaign: Any, app: Flask, client: FlaskClient) -> None:
    add_campaign("over", **{"status: live": "status: closed"})
    response = client.get("/c/over")
    assert response.status_code == 200
    assert "This campaign is closed" in text_of(response)
    assert not page(response).xpath("//input[@name='zip']")
    assert client.get("/c/over/members?zip=53001").status_code == 303
    posted = client.post("/c/over/send", data={**GOOD, "district": "WI-1", "lookup_zip": "53001"})
    assert posted.status_code == 303
    assert count(app, Action) == 0


# -- members step -------------------------------------------------------------------------------------

def test_members_step_shows_cards_with_title_party_seat_and_phone(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}/members?zip=53001")
    text = text_of(response)
    assert "Representative Rita One" in text and "Democrat · WI-1" in text
    assert "Senator Wanda Senior" in text and "Senator Walt Junior" in text and "Republican · WI" in text
    assert "202-224-0001" in text
    assert "Members of the 119th Congress as of June 15, 2026." in text  # which data, and how old, in words
    assert page(response).xpath("//a[@href='tel:202-224-0001']")


@pytest.mark.parametrize(("zip_text", "message"), [
    ("5370", "Enter a five-digit ZIP code, such as 53703."),
    ("abcde", "Enter a five-digit ZIP code, such as 53703."),
    ("99999", "We could not find ZIP code 99999. Check it and try again."),
    ("", "Enter your ZIP code."),
])
def test_bad_zip_gets_a_clear_message_on_the_same_page_with_input_kept(
        client: FlaskClient, zip_text: str, message: str) -> None:
    response = client.get(f"/c/{SLUG}/members?zip={zip_text}")
    assert response.status_code == 422
    doc = page(response)
    assert message in text_of(response)
    assert doc.xpath("//input[@name='zip']/@value") == [zip_text]
    assert doc.xpath("//input[@name='zip']/@aria-invalid") == ["true"]


def test_zip_plus_four_is_accepted(client: FlaskClient) -> None:
    assert "Rita One" in text_of(client.get(f"/c/{SLUG}/members?zip=53001-1234"))


def test_ambiguous_zip_asks_for_the_district_never_guessing(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}/members?zip=53002&ref=abc")
    assert response.status_code == 200
    doc = page(response)
    text = text_of(response)
    assert "ZIP code 53002 is split between more than one congressional district" in text
    assert doc.xpath("//input[@type='radio'][@name='district']/@value") == ["WI-1", "WI-2"]
    assert not doc.xpath("//input[@type='radio'][@checked]")
    assert doc.xpath("//button[@id='use-location']")
    assert doc.xpath("//div[@data-geo][@hidden]")  # shown by JavaScript only
    assert doc.xpath("//form[@id='district-form']//input[@name='ref']/@value") == ["abc"]
    assert not doc.xpath("//form[contains(@action, '/send')]")


def test_choosing_a_district_shows_its_member_and_the_state_senators(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}/members?zip=53002&district=WI-2")
    text = text_of(response)
    assert "Representative Ron Two" in text and "Rita One" not in text
    assert "Senator Wanda Senior" in text
    assert "You chose district WI-2" in text


def test_a_district_not_in_the_zip_is_refused(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}/members?zip=53002&district=WI-7")
    assert "Choose one of the districts below." in text_of(response)


def test_approximate_match_says_so(client: FlaskClient) -> None:
    text = text_of(client.get(f"/c/{SLUG}/members?zip=53099"))  # a PO-box ZIP placed in WI-1 by its centre
    assert "this match is approximate" in text
    assert "WI-1, Wisconsin’s 1st congressional district" in text


@pytest.mark.parametrize(("zip_code", "label", "words"), [
    ("20500", "DC-AL", "The District of Columbia’s at-large congressional district"),  # PO-box ZIP in DC
    ("99599", "AK-AL", "Alaska’s at-large congressional district"),  # PO-box ZIP in an at-large state
    ("96910", "GU-AL", "Guam’s at-large congressional district"),  # Guam: placed by state
    ("99501", "AK-AL", "Alaska’s at-large congressional district"),
])
def test_a_certain_answer_is_not_called_approximate(client: FlaskClient, zip_code: str, label: str,
                                                    words: str) -> None:
    text = text_of(client.get(f"/c/{SLUG}/members?zip={zip_code}"))
    assert "approximate" not in text
    assert f"Your congressional district: {label}, {words}." in text


def test_the_api_keeps_the_status_of_a_certain_answer(client: FlaskClient) -> None:
    assert client.get("/api/v1/lookup?zip=20500").get_json()["status"] == "approximate"


def test_dc_says_why_it_has_no_senators(client: FlaskClient) -> None:
    text = text_of(client.get(f"/c/{SLUG}/members?zip=20500"))
    assert "Delegate Dee Capitol" in text
    assert ("The District of Columbia has no senators: the Constitution gives seats in the Senate only to "
            "states, and the District of Columbia is not a state.") in text
    assert "has no senators" not in text_of(client.get(f"/c/{SLUG}/members?zip=53001"))


def test_districts_are_named_in_words_in_spanish(client: FlaskClient) -> None:
    text = text_of(client.get(f"/c/{SLUG}/members?zip=53002&district=WI-2&lang=es"))
    assert "WI-2, 2.º distrito congresional de Wisconsin" in text
    assert "Distrito de Columbia no tiene senadores" in text_of(
        client.get(f"/c/{SLUG}/members?zip=20500&lang=es"))


def test_vacant_seat_is_said_plainly_and_gets_no_message(app: Flask, client: FlaskClient) -> None:
    text = text_of(client.get(f"/c/{SLUG}/members?zip=53003"))
    assert "WI-3: vacant seat" in text
    assert "This seat is vacant right now" in text
    assert send(client, "53003").status_code == 303
    _actions, messages = rows(app)
    assert [m.member_title for m in messages] == ["Senator", "Senator"]


@pytest.mark.parametrize(("zip_code", "title", "salutation"), [
    ("20001", "Delegate", "Dear Delegate Capitol,"),
    ("00901", "Resident Commissioner", "Dear Resident Commissioner Hernandez,"),
    ("99501", "Representative", "Dear Representative Large,"),
])
def test_non_voting_and_at_large_seats(app: Flask, client: FlaskClient, zip_code: str, title: str,
                                       salutation: str) -> None:
    assert salutation in text_of(client.get(f"/c/{SLUG}/members?zip={zip_code}"))
    assert send(client, zip_code).status_code == 303
    _actions, messages = rows(app)
    house = [m for m in messages if m.chamber == "house"]
    assert [m.member_title for m in house] == [title]
    assert house[0].district == 0 and house[0].district_label.endswith("-AL")


# -- compose and submit -------------------------------------------------------------------------------

def test_letter_preview_shows_each_members_letter(client: FlaskClient) -> None:
    doc, fields = compose(client)
    previews = [" ".join(p.text_content().split()) for p in doc.xpath("//pre[@class='letter']")]
    assert len(previews) == 3
    assert previews[0].startswith("Dear Representative One,")
    assert previews[1].startswith("Dear Senator Senior,")
    assert fields["zip"] == "53001" and fields["district"] == "WI-1"


def test_members_step_shows_the_suggested_letter_with_placeholders(client: FlaskClient) -> None:
    doc, fields = compose(client)
    previews = [p.text_content() for p in doc.xpath("//pre[@class='letter']")]
    assert all("As your constituent in [city], WI" in preview for preview in previews)
    assert fields["suggested_text"].strip().startswith("As your constituent in [city], WI")


def test_preview_button_fills_the_letter_without_sending(app: Flask, client: FlaskClient) -> None:
    _doc, fields = compose(client)
    response = client.post(f"/c/{SLUG}/send", data={**fields, "first_name": "Ana", "city": "Verona",
                                                     "preview": "1"})
    assert response.status_code == 200
    assert "As your constituent in Verona, WI" in text_of(response)
    assert not page(response).xpath("//*[@id='error-summary']")
    assert count(app, Action) == 0


def test_submit_writes_one_action_and_one_message_per_member(app: Flask, client: FlaskClient) -> None:
    response = send(client, query="&ref=partner-7", ref="partner-7", personal_message="My cousin died.",
                    wants_receipt="y", phone="608-555-0123", prefix="Dr.")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/r/")
    actions, messages = rows(app)
    assert len(actions) == 1 and len(messages) == 3
    action = actions[0]
    assert action.ref == "partner-7" and action.lang == "en" and action.district_label == "WI-1"
    assert action.state == "WI" and action.wants_receipt_email is True
    # A hand-off campaign's letters carry only name and city: the title, street and phone it did not ask for
    # are not stored, even when posted.
    assert action.prefix is None and action.phone is None and not action.address1
    assert action.personal_message == "My cousin died."
    assert len(action.receipt_token) >= 40
    assert action.receipt_base_url == "http://localhost"
    assert {m.bioguide for m in messages} == {"R000001", "S000001", "S000002"}
    for m in messages:
        assert m.status == NEEDS_CONSTITUENT and m.channel == "handoff"
        assert m.constituent_key == constituent_key("ana@example.com")
        assert m.ref == "partner-7" and m.edited is False
        assert m.constituent_text == "My cousin died."
        assert "My cousin died." not in m.suggested_text  # the constituent's words stay apart
        assert "As your constituent in Madison, WI" in m.suggested_text
        assert m.suggested_text.endswith("Sincerely,\nAna Díaz\nMadison, WI")
        assert m.created_day == local_day(m.created_at, "America/New_York")  # the site's default zone
        assert len(m.id) == 32
    senator = next(m for m in messages if m.bioguide == "S000001")
    assert senator.suggested_text.startswith("Dear Senator Senior,") and senator.district is None


def test_edited_letter_is_recorded_as_edited(app: Flask, client: FlaskClient) -> None:
    _doc, fields = compose(client)
    edited = fields["suggested_text"] + "\n\nI have seen this in [city] myself."
    assert send(client, suggested_text=edited).status_code == 303
    _actions, messages = rows(app)
    assert all(m.edited for m in messages)
    assert all("I have seen this in Madison myself." in m.suggested_text for m in messages)
    assert messages[0].suggested_text.startswith("Dear ")


def test_invalid_ref_is_ignored(app: Flask, client: FlaskClient) -> None:
    doc, fields = compose(client, query="&ref=bad%20ref!")
    assert fields["ref"] == ""
    send(client, ref="<script>")
    actions, _ = rows(app)
    assert actions[0].ref is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("first_name", "", "Enter your first name."),
    ("first_name", "x" * 101, "Field cannot be longer than 100 characters."),
    ("last_name", "  ", "Enter your last name."),
    ("email", "", "Enter your e-mail address."),
    ("email", "not-an-address", "Enter an e-mail address like name@example.com."),
    ("email", "a@b", "Enter an e-mail address like name@example.com."),
    ("city", "", "Enter your city."),
    ("zip", "", "Enter your ZIP code."),
    ("zip", "123", "Enter a five-digit ZIP code, such as 53703."),
    ("zip", "99999", "We could not find ZIP code 99999."),
    ("zip", "20001", "ZIP code 20001 is not in WI, where your district WI-1 is."),
    ("personal_message", "x" * 5001, "Keep your own words under 5000 characters."),
    ("suggested_text", "   ", "The letter cannot be empty."),
    ("suggested_text", "x" * 10001, "Keep the letter under 10000 characters."),
])
def test_bad_input_on_each_field_is_shown_and_writes_nothing(
        app: Flask, client: FlaskClient, field: str, value: str, message: str) -> None:
    response = send(client, **{field: value, "first_name": "Keep Me" if field != "first_name" else value})
    assert response.status_code == 422
    doc = page(response)
    summary = doc.xpath("//*[@id='error-summary']")
    assert summary and summary[0].get("role") == "alert"
    assert doc.xpath(f"//*[@id='error-summary']//a[@href='#{field}']"), "summary links to the field"
    assert message in " ".join(doc.xpath(f"//p[@id='{field}-error']")[0].text_content().split())
    assert doc.xpath(f"//*[@id='{field}']/@aria-invalid") == ["true"]
    if field != "first_name":
        assert doc.xpath("//input[@id='first_name']/@value") == ["Keep Me"]  # values are kept
    assert count(app, Action) == 0 and count(app, Message) == 0


def test_tampered_district_goes_back_to_the_choice(app: Flask, client: FlaskClient) -> None:
    response = send(client, "53002", query="&district=WI-1", district="WI-9")
    assert response.status_code == 422
    assert "The district sent is not one of the districts of ZIP code 53002." in text_of(response)
    assert page(response).xpath("//input[@type='radio'][@name='district']/@value") == ["WI-1", "WI-2"]
    assert count(app, Action) == 0


def test_ambiguous_zip_writes_only_to_the_chosen_district(app: Flask, client: FlaskClient) -> None:
    assert send(client, "53002", query="&district=WI-2").status_code == 303
    actions, messages = rows(app)
    assert actions[0].district_label == "WI-2"
    assert {m.bioguide for m in messages} == {"R000002", "S000001", "S000002"}


def test_a_zip_in_two_states_writes_only_to_the_senators_of_the_chosen_districts_state(
        app: Flask, client: FlaskClient) -> None:
    text = text_of(client.get(f"/c/{SLUG}/members?zip=56001&district=MN-1"))
    assert "Senator Mina North" in text and "Senator Max Appointed" in text and "Wanda Senior" not in text
    assert send(client, "56001", query="&district=MN-1").status_code == 303
    actions, messages = rows(app)
    assert actions[0].state == "MN" and actions[0].district_label == "MN-1"
    assert {m.bioguide for m in messages} == {"R000003", "S000003", "S000004"}


def test_repeat_submission_returns_the_same_receipt_and_writes_nothing(app: Flask,
                                                                       client: FlaskClient) -> None:
    first = send(client)
    second = send(client, email="  ANA@example.COM ")
    assert second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert count(app, Action) == 1 and count(app, Message) == 3


def test_oversized_body_gets_413(app: Flask, client: FlaskClient) -> None:
    response = send(client, personal_message="x" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    assert response.status_code == 413
    assert "That was too much text" in text_of(response)
    assert count(app, Action) == 0


def test_queued_channels_start_queued_and_due(add_campaign: Any, app: Flask, client: FlaskClient) -> None:
    add_campaign("mailed", **{"house: {channel: handoff}": "house: {channel: smtp, to: h@example.org}"})
    response = client.get("/c/mailed/members?zip=53001")
    data = {**form_fields(page(response)), **GOOD, "send": "1"}
    assert client.post("/c/mailed/send", data=data).status_code == 303
    _actions, messages = rows(app)
    house = next(m for m in messages if m.chamber == "house")
    senate = next(m for m in messages if m.chamber == "senate")
    assert house.status == QUEUED and house.channel == "smtp" and house.next_attempt_at is not None
    assert senate.status == NEEDS_CONSTITUENT and senate.next_attempt_at is None


def test_cwc_campaign_requires_a_prefix_from_the_fixed_list(add_campaign: Any, app: Flask,
                                                            client: FlaskClient) -> None:
    add_campaign("official", **{"house: {channel: handoff}": "house: {channel: cwc}"})
    response = client.get("/c/official/members?zip=53001")
    options = page(response).xpath("//select[@id='prefix']/option/@value")
    assert options == ["", "Mr.", "Mrs.", "Miss", "Ms.", "Dr."]
    data = {**form_fields(page(response)), **GOOD, "send": "1"}
    refused = client.post("/c/official/send", data={**data, "prefix": ""})
    assert refused.status_code == 422 and "Choose your title." in text_of(refused)
    assert client.post("/c/official/send", data={**data, "prefix": "Mx."}).status_code == 422
    assert client.post("/c/official/send", data={**data, "prefix": "Ms."}).status_code == 303


@pytest.mark.parametrize(("field", "value", "message"), [
    ("address1", "", "Enter your street address."),
    ("phone", "call me", "Enter a phone number using digits, such as 608-555-0123."),
    ("prefix", "Sir", "Not a valid choice."),
])
def test_bad_input_on_the_fields_only_cwc_asks_for(add_campaign: Any, app: Flask, client: FlaskClient,
                                                   field: str, value: str, message: str) -> None:
    add_campaign("official", **{"house: {channel: handoff}": "house: {channel: cwc}"})
    doc = page(client.get("/c/official/members?zip=53001"))
    data = {**form_fields(doc), **GOOD, "prefix": "Ms.", "send": "1", field: value}
    response = client.post("/c/official/send", data=data)
    assert response.status_code == 422
    assert page(response).xpath(f"//*[@id='error-summary']//a[@href='#{field}']")
    assert message in text_of(response)
    assert count(app, Action) == 0


@pytest.mark.parametrize(("house", "asks_street", "asks_phone", "asks_title"), [
    ("handoff", False, False, False),
    ("smtp, to: house@example.org", False, False, False),
    ("packet", True, False, False),
    ("cwc", True, True, True),
])
def test_the_form_asks_only_for_what_the_channels_carry(add_campaign: Any, app: Flask, client: FlaskClient,
                                                        house: str, asks_street: bool, asks_phone: bool,
                                                        asks_title: bool) -> None:
    add_campaign("variant", **{"house: {channel: handoff}": f"house: {{channel: {house}}}",
                               "targets: both": "targets: house"})
    doc = page(client.get("/c/variant/members?zip=53001"))
    assert bool(doc.xpath("//input[@id='address1']")) is asks_street
    assert bool(doc.xpath("//input[@id='phone']")) is asks_phone
    assert bool(doc.xpath("//select[@id='prefix']")) is asks_title
    if asks_street:  # and says why
        assert doc.xpath("//p[@id='address1-hint']")
    data = {**form_fields(doc), **GOOD, "prefix": "Ms.", "address1": "1 Main St", "phone": "608-555-0123",
            "send": "1"}
    assert client.post("/c/variant/send", data=data).status_code == 303
    action = rows(app)[0][0]
    assert (action.address1 == "1 Main St") is asks_street and (action.phone is not None) is asks_phone
    assert (action.prefix == "Ms.") is asks_title


def test_not_editable_campaign_has_no_letter_box(add_campaign: Any, app: Flask, client: FlaskClient) -> None:
    add_campaign("fixed", **{"editable: true": "editable: false"})
    response = client.get("/c/fixed/members?zip=53001")
    assert not page(response).xpath("//textarea[@name='suggested_text']")
    data = {**form_fields(page(response)), **GOOD, "send": "1", "suggested_text": "Sneaky text"}
    assert client.post("/c/fixed/send", data=data).status_code == 303
    _actions, messages = rows(app)
    assert not any(m.edited or "Sneaky" in m.suggested_text for m in messages)


# -- receipt ------------------------------------------------------------------------------------------

def test_receipt_lists_messages_with_status_next_steps_and_share_link(client: FlaskClient) -> None:
    receipt = client.get(send(client, "53002", query="&district=WI-2&ref=p1", ref="p1").headers["Location"])
    assert receipt.status_code == 200
    doc = page(receipt)
    text = text_of(receipt)
    assert text.count("Waiting for you to send it") == 3
    assert "Call 202-224-0001" in text and "Hello, my name is Ana Díaz and I live in Madison, WI" in text
    assert doc.xpath("//a[@href='https://x.example']")
    assert doc.xpath("//a[@href='https://two.example.gov']")  # no contact form: the website instead
    letters = doc.xpath("//textarea[starts-with(@id, 'letter-')]")
    assert len(letters) == 3 and letters[0].text.startswith("Dear Representative Two,")
    assert doc.xpath("//button[@data-copy][@hidden]")  # copy buttons appear with JavaScript only
    assert doc.xpath("//input[@id='share-url']/@value") == [f"http://localhost/c/{SLUG}?ref=p1"]
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]


def test_i_sent_it_marks_the_message_handed_off(app: Flask, client: FlaskClient) -> None:
    location = send(client).headers["Location"]
    doc = page(client.get(location))
    action = doc.xpath("//form[contains(@action, '/sent/')]/@action")[0]
    response = client.post(action)
    assert response.status_code == 303
    again = client.get(response.headers["Location"])
    assert "We recorded that you sent it." in text_of(again)
    _actions, messages = rows(app)
    handed = [m for m in messages if m.status == HANDED_OFF]
    assert len(handed) == 1 and handed[0].handed_off_at is not None
    assert client.post(action).status_code == 303  # saying it twice is harmless
    assert len([m for m in rows(app)[1] if m.status == HANDED_OFF]) == 1


def test_unknown_receipt_is_404(client: FlaskClient) -> None:
    assert client.get("/r/not-a-real-token").status_code == 404
    assert client.post("/r/not-a-real-token/sent/abc").status_code == 404


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_post_without_token_is_refused_and_with_token_accepted(self, app: Flask,
                                                                   client: FlaskClient) -> None:
        _doc, fields = compose(client)
        assert fields["csrf_token"]
        refused = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "csrf_token": "", "send": "1"})
        assert refused.status_code == 422
        assert "This form expired. Check your details and send it again." in text_of(refused)
        assert form_fields(page(refused))["csrf_token"]  # a fresh token to send it again with
        assert count(app, Action) == 0
        accepted = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "send": "1"})
        assert accepted.status_code == 303
        assert count(app, Action) == 1


def test_tampered_letter_language_falls_back_to_the_campaigns_letter(app: Flask, client: FlaskClient) -> None:
    assert send(client, letter_lang="xx").status_code == 303
    _actions, messages = rows(app)
    assert all(m.suggested_text.startswith("Dear ") for m in messages)
    assert not any(m.edited for m in messages)


def test_repeat_from_another_browser_does_not_reveal_the_earlier_receipt(app: Flask,
                                                                         client: FlaskClient) -> None:
    first = send(client)
    token = first.headers["Location"].removeprefix("/r/")
    other = app.test_client()
    response = send(other, email="ana@example.com")
    assert response.status_code == 200
    assert "You already wrote to these members" in text_of(response)
    assert token not in response.get_data(as_text=True)
    assert count(app, Action) == 1 and count(app, Message) == 3


def test_senate_only_campaign_writes_to_the_senators_alone(add_campaign: Any, app: Flask,
                                                            client: FlaskClient) -> None:
    add_campaign("senate-only", **{"targets: both": "targets: senate"})
    response = client.get("/c/senate-only/members?zip=53001")
    assert "Rita One" not in text_of(response)
    data = {**form_fields(page(response)), **GOOD, "send": "1"}
    assert client.post("/c/senate-only/send", data=data).status_code == 303
    actions, messages = rows(app)
    assert actions[0].district_label is None and actions[0].state == "WI"
    assert [m.chamber for m in messages] == ["senate", "senate"]


def test_house_only_campaign_in_dc_writes_to_the_delegate(add_campaign: Any, app: Flask,
                                                          client: FlaskClient) -> None:
    add_campaign("house-only", **{"targets: both": "targets: house"})
    response = client.get("/c/house-only/members?zip=20001")
    data = {**form_fields(page(response)), **GOOD, "zip": "20001", "send": "1"}
    assert client.post("/c/house-only/send", data=data).status_code == 303
    _actions, messages = rows(app)
    assert [(m.member_title, m.district_label) for m in messages] == [("Delegate", "DC-AL")]
