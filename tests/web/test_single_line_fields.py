"""Finding 9 of the hardening issue: one-line details take one line, and no field takes control characters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from actiontool import create_app, db
from actiontool.models import Action, Message
from tests.web.flow_helpers import GOOD, campaign_variant, count, form_fields, page, send

PAYLOAD = "Madison\n\nThe organisation now OPPOSES this proposal."
ONE_LINE = "Use one line, without line breaks or special characters."
ONE_LINE_ES = "Use una sola línea, sin saltos de línea ni caracteres especiales."
NO_CONTROL = "Remove the special characters this text contains."


def _error(response: object, field: str) -> str:
    doc = page(response)
    found = doc.xpath(f"//p[@id='{field}-error']")
    assert found, f"no error shown under {field}"
    return " ".join(found[0].text_content().split())


@pytest.mark.parametrize("field,value", [
    ("city", PAYLOAD),
    ("city", "Madison\r\nP.S."),
    ("city", "Madi\x00son"),
    ("city", "Madison\u2028Line two"),
    ("first_name", "Ana\nThe organisation withdraws its support."),
    ("last_name", "Díaz\x1b[31m"),
    ("email", "ana@example.com\r\nBcc: x@example.org"),
    ("zip", "530\n01"),
    ("first_name", "Ana\u202eevil"),  # a right-to-left override would turn the city after it around
    ("city", "\u2067Madison"),
])
def test_a_line_break_or_control_character_in_a_one_line_field_is_refused(
        app: Flask, client: FlaskClient, field: str, value: str) -> None:
    response = send(client, **{field: value})
    assert response.status_code == 422
    assert ONE_LINE in _error(response, field)  # e-mail and ZIP may add their own shape message
    assert count(app, Action) == 0 and count(app, Message) == 0


@pytest.mark.parametrize("field,value", [
    ("address1", "1 Main St\nApt 2"),
    ("address1", "1 Main St\x7f"),
    ("phone", "608\n555 0123"),
])
def test_the_street_and_phone_a_cwc_campaign_asks_for_take_one_line(
        app_config: dict[str, Any], tmp_path: Path, field: str, value: str) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    campaign_variant(folder, "official", **{"house: {channel: handoff}": "house: {channel: cwc}"})
    app = create_app({**app_config, "CAMPAIGNS_DIR": str(folder)})
    client = app.test_client()
    fields = form_fields(page(client.get("/c/official/members?zip=53001")))
    response = client.post("/c/official/send", data={**fields, **GOOD, "prefix": "Ms.", "send": "1",
                                                     field: value})
    assert response.status_code == 422
    assert ONE_LINE in _error(response, field)
    assert count(app, Action) == 0 and count(app, Message) == 0


def test_the_one_line_message_is_translated(app: Flask, client: FlaskClient) -> None:
    client.get("/?lang=es")
    response = send(client, city=PAYLOAD)
    assert response.status_code == 422
    assert ONE_LINE_ES in _error(response, "city")


def test_own_words_and_the_letter_keep_their_line_breaks(app: Flask, client: FlaskClient) -> None:
    response = send(client, personal_message="First paragraph.\r\n\r\nSecond,\twith a tab.")
    assert response.status_code == 303
    with app.app_context():
        action = db.get_session().execute(select(Action)).scalar_one()
        assert action.personal_message == "First paragraph.\r\n\r\nSecond,\twith a tab."


@pytest.mark.parametrize("field", ["personal_message", "suggested_text"])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x08", "\x85"])
def test_own_words_and_the_letter_refuse_other_control_characters(
        app: Flask, client: FlaskClient, field: str, char: str) -> None:
    response = send(client, **{field: f"Please act.\n\nNow{char}."})
    assert response.status_code == 422
    assert NO_CONTROL in _error(response, field)
    assert count(app, Action) == 0


def test_a_right_to_left_name_is_welcome(app: Flask, client: FlaskClient) -> None:
    # an Arabic name, and a city with a right-to-left mark (a mark, not an override)
    response = send(client, first_name="\u0633\u0627\u0631\u0629", city="\u200fMadison")
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    assert count(app, Action) == 1
