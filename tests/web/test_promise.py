"""The promise matches the delivery: the members step says who carries each letter before the constituent
sends, and the button says what happens next (issue 10, section 1)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool.resources import data_dir
from tests.delivery.conftest import cwc_settings
from tests.web.flow_helpers import GOOD, SLUG, campaign_variant, form_fields, page, text_of

HANDOFF_SENATE = "senate: {channel: handoff}"
HANDOFF_HOUSE = "house: {channel: handoff}"
SMTP_SENATE = "senate: {channel: smtp, to: senate-letters@example.org}"
SMTP_ONE_SENATOR = "senate: {channel: smtp, to: {by_bioguide: {S000001: senior@example.org}}}"
# Never contacted: no worker runs in these tests. They only make this server "able" to send.
SMTP_ON = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 2525, "SMTP_TLS": "none",
           "MAIL_FROM": "letters@example.org"}
CWC_ON = cwc_settings("http://127.0.0.1:9", "test-key")


@pytest.fixture
def campaigns_dir(tmp_path: Path, app_config: dict[str, Any]) -> Path:
    """A campaigns folder with the default campaign and variants that deliver differently."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    shutil.copy(data_dir() / "campaigns" / f"{SLUG}.yaml", folder)
    campaign_variant(folder, "mailed", **{HANDOFF_SENATE: SMTP_SENATE})
    campaign_variant(folder, "one-mailed", **{HANDOFF_SENATE: SMTP_ONE_SENATOR})
    campaign_variant(folder, "official",
                     **{HANDOFF_SENATE: SMTP_SENATE, HANDOFF_HOUSE: "house: {channel: cwc}"})
    app_config["CAMPAIGNS_DIR"] = str(folder)
    return folder


def members_step(client: FlaskClient, slug: str = SLUG, zip_code: str = "53001") -> Any:
    response = client.get(f"/c/{slug}/members?zip={zip_code}")
    assert response.status_code == 200
    return response


def travel_by_member(response: Any) -> dict[str, str]:
    """Return each member card's "how it travels" line, by the member's heading."""
    doc = page(response)
    return {" ".join(card.xpath(".//h2")[0].text_content().split()):
            " ".join(card.xpath(".//p[contains(@class, 'travel')]")[0].text_content().split())
            for card in doc.xpath("//li[contains(@class, 'member')][.//p[contains(@class, 'travel')]]")}


def send_button(response: Any) -> str:
    [button] = page(response).xpath("//button[@name='send']")
    return " ".join(button.text_content().split())


def preview_heading(response: Any) -> str:
    return " ".join(page(response).xpath("//h3[@id='preview-title']")[0].text_content().split())


def test_hand_off_campaign_says_the_constituent_sends_every_letter(client: FlaskClient) -> None:
    response = members_step(client)
    travel = travel_by_member(response)
    assert len(travel) == 3
    assert all(line.startswith("You send it: we give you the office’s contact form and phone number")
               for line in travel.values())
    assert send_button(response) == "Write my letters"
    assert "Send my letters" not in text_of(response)
    assert preview_heading(response) == "Preview: your letters"
    assert "what each office receives" not in text_of(response)
    assert "Next: you send your letters yourself." in text_of(response)


def test_channel_this_server_has_not_configured_is_promised_as_the_constituents(
        campaigns_dir: Path, client: FlaskClient) -> None:
    response = members_step(client, "mailed")  # the file says smtp, but no SMTP server is configured here
    assert set(travel_by_member(response).values()) == {
        "You send it: we give you the office’s contact form and phone number, and your letter to copy."}
    assert send_button(response) == "Write my letters"


class TestWithEmail:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, **SMTP_ON}

    def test_mixed_campaign_says_who_carries_which_letter(self, campaigns_dir: Path,
                                                          client: FlaskClient) -> None:
        response = members_step(client, "mailed")
        travel = travel_by_member(response)
        assert travel["Senator Wanda Senior"] == "We deliver it to the office by e-mail."
        assert travel["Senator Walt Junior"] == "We deliver it to the office by e-mail."
        assert travel["Representative Rita One"].startswith("You send it:")
        assert send_button(response) == "Write my letters"
        assert "You send the other one yourself" in text_of(response)
        assert preview_heading(response) == "Preview: your letters"

    def test_member_without_an_address_for_the_email_channel_is_the_constituents(
            self, campaigns_dir: Path, client: FlaskClient) -> None:
        travel = travel_by_member(members_step(client, "one-mailed"))
        assert travel["Senator Wanda Senior"] == "We deliver it to the office by e-mail."
        assert travel["Senator Walt Junior"].startswith("You send it:")  # the worker would fail it

    def test_receipt_email_is_offered(self, client: FlaskClient) -> None:
        doc = page(members_step(client))
        assert doc.xpath("//input[@name='wants_receipt']")
        assert "For your receipt." in text_of(members_step(client))


class TestWithEmailAndCwc:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, **SMTP_ON, **CWC_ON}

    def test_send_my_letters_only_when_every_letter_is_delivered_for_them(
            self, campaigns_dir: Path, client: FlaskClient) -> None:
        response = members_step(client, "official")
        travel = travel_by_member(response)
        assert travel["Representative Rita One"] == (
            "We deliver it to the office through Congress’s official system for constituent messages.")
        assert travel["Senator Walt Junior"] == "We deliver it to the office by e-mail."
        assert send_button(response) == "Send my letters"
        assert preview_heading(response) == "Preview: what each office receives"
        assert "Next: we deliver your letters to the offices." in text_of(response)

    def test_the_default_campaign_still_leaves_the_letters_to_the_constituent(
            self, client: FlaskClient) -> None:
        assert send_button(members_step(client)) == "Write my letters"  # hand-off: the server never sends


def test_receipt_email_is_not_offered_when_this_server_cannot_send_email(client: FlaskClient) -> None:
    response = members_step(client)
    assert not page(response).xpath("//input[@name='wants_receipt']")
    assert "E-mail me my receipt" not in text_of(response)
    assert "For your receipt." not in text_of(response)


def test_spanish_members_step_says_who_sends_in_spanish(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}/members?zip=53001&lang=es")
    assert send_button(response) == "Escribir mis cartas"
    travel = travel_by_member(response)
    assert all(line.startswith("Usted la envía:") for line in travel.values())
    assert "Enviar mis cartas" not in text_of(response)


def test_bot_answer_does_not_claim_letters_are_on_their_way(app: Flask, client: FlaskClient) -> None:
    from actiontool.web import bots

    doc = page(members_step(client))
    inputs = doc.xpath("//form[contains(@action,'/send')]//input")
    fields = {el.get("name"): el.get("value") or "" for el in inputs if el.get("name")}
    response = client.post(f"/c/{SLUG}/send", data={**fields, bots.HONEYPOT_FIELD: "https://spam.example"})
    assert response.status_code == 200
    assert "Thank you" in text_of(response)
    assert "on their way" not in text_of(response)


class TestDeliveredForThem:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, **SMTP_ON, **CWC_ON}

    def test_receipt_of_letters_we_deliver_asks_nothing_more_of_the_constituent(
            self, campaigns_dir: Path, client: FlaskClient) -> None:
        response = members_step(client, "official")
        fields = form_fields(page(response))
        sent = client.post("/c/official/send", data={**fields, **GOOD, "prefix": "Ms.", "send": "1"})
        assert sent.status_code == 303
        receipt = client.get(sent.headers["Location"])
        text = text_of(receipt)
        assert "0 of 3 letters sent" in text  # queued is not sent yet
        assert "Nothing more for you to do: we deliver your letters" in text
        assert "Not sent yet" not in text and "I sent it" not in text
        assert text.count("Queued for delivery") == 3
        assert not page(receipt).xpath("//a[@href='https://x.example']")  # no form to fill for them
