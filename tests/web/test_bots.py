"""The compose form's honeypot and minimum fill time: bots get a success-like page and change no count."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool import db
from actiontool.models import Action, BotSubmission, Message
from actiontool.services.bots import bot_counts, bot_total
from actiontool.web import bots
from tests.web.flow_helpers import GOOD, SLUG, compose, count, page


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Require three seconds between showing the form and sending it, as production does."""
    return {**app_config, "BOT_MIN_FILL_SECONDS": 3.0}


def _fields(client: FlaskClient) -> dict[str, str]:
    _doc, fields = compose(client)
    return {**fields, **GOOD, "send": "1"}


def _aged(app: Flask, fields: dict[str, str], seconds: float) -> dict[str, str]:
    """Return the form as if it had been shown `seconds` ago."""
    with app.test_request_context():
        return {**fields, bots.STARTED_FIELD: bots.started_token(time.time() - seconds)}


def _nothing_recorded(app: Flask) -> bool:
    return count(app, Action) == 0 and count(app, Message) == 0


def test_the_compose_form_carries_a_hidden_honeypot_and_a_signed_start_time(client: FlaskClient) -> None:
    doc, fields = compose(client)
    honeypot = doc.get_element_by_id(bots.HONEYPOT_FIELD)
    assert honeypot.getparent().get("hidden") is not None  # hidden from people and screen readers
    assert fields[bots.HONEYPOT_FIELD] == ""
    assert fields[bots.STARTED_FIELD]


def test_a_person_who_took_their_time_is_recorded(app: Flask, client: FlaskClient) -> None:
    response = client.post(f"/c/{SLUG}/send", data=_aged(app, _fields(client), 30))
    assert response.status_code == 303 and "/r/" in response.headers["Location"]
    assert count(app, Action) == 1 and count(app, BotSubmission) == 0


@pytest.mark.parametrize("reason,change", [
    ("honeypot", {bots.HONEYPOT_FIELD: "https://spam.example"}),
    ("too_fast", {}),
    ("no_timestamp", {bots.STARTED_FIELD: ""}),
    ("no_timestamp", {bots.STARTED_FIELD: "forged.token"}),
])
def test_a_bot_gets_a_success_page_and_records_nothing_but_the_bot_count(
        app: Flask, client: FlaskClient, reason: str, change: dict[str, str]) -> None:
    fields = _fields(client)  # shown just now: too fast unless aged below
    if reason == "honeypot":
        fields = _aged(app, fields, 30)
    response = client.post(f"/c/{SLUG}/send", data={**fields, **change})
    assert response.status_code == 200
    assert "Thank you" in page(response).text_content()
    assert _nothing_recorded(app)
    with app.app_context():
        session = db.get_session()
        assert bot_total(session, SLUG) == 1
        [row] = bot_counts(session, SLUG)
        assert (row.reason, row.count) == (reason, 1)


def test_a_preview_is_never_taken_for_a_bot(app: Flask, client: FlaskClient) -> None:
    response = client.post(f"/c/{SLUG}/send", data={**_fields(client), "preview": "1"})
    assert response.status_code == 200
    assert count(app, BotSubmission) == 0 and _nothing_recorded(app)
