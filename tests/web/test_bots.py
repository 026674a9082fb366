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


def _aged(app: Flask, fields: dict[str, str], seconds: float, client: FlaskClient | None = None
          ) -> dict[str, str]:
    """Return the form as if it had been shown `seconds` ago (in `client`'s session)."""
    binding = None
    if client is not None:
        with client.session_transaction() as browser:
            binding = browser.get(bots.BINDING_KEY)
    with app.test_request_context():
        return {**fields, bots.STARTED_FIELD: bots.started_token(time.time() - seconds,
                                                                 binding=binding or "none")}


def _nothing_recorded(app: Flask) -> bool:
    return count(app, Action) == 0 and count(app, Message) == 0


def test_the_compose_form_carries_a_hidden_honeypot_and_a_signed_start_time(client: FlaskClient) -> None:
    doc, fields = compose(client)
    honeypot = doc.get_element_by_id(bots.HONEYPOT_FIELD)
    assert honeypot.getparent().get("hidden") is not None  # hidden from people and screen readers
    assert fields[bots.HONEYPOT_FIELD] == ""
    assert fields[bots.STARTED_FIELD]


def test_a_person_who_took_their_time_is_recorded(app: Flask, client: FlaskClient) -> None:
    response = client.post(f"/c/{SLUG}/send", data=_aged(app, _fields(client), 30, client))
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
        fields = _aged(app, fields, 30, client)
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



# Finding 7 of the hardening issue: one signed start time, reused across sessions after 3 s, passed 4 of 4.

def _bot_reasons(app: Flask) -> list[str]:
    with app.app_context():
        return [row.reason for row in bot_counts(db.get_session(), SLUG)]


def test_a_start_token_is_good_for_one_submission(app: Flask, client: FlaskClient) -> None:
    fields = _aged(app, _fields(client), 30, client)
    first = client.post(f"/c/{SLUG}/send", data=fields)
    assert first.status_code == 303
    # The same form again, with another address so that de-duplication is not what stops it.
    again = client.post(f"/c/{SLUG}/send", data={**fields, "email": "other@example.org"})
    assert again.status_code == 200 and count(app, Action) == 1
    assert _bot_reasons(app) == ["replayed"]


def test_a_start_token_from_another_session_is_refused(app: Flask, client: FlaskClient) -> None:
    fields = _aged(app, _fields(client), 30, client)
    script = app.test_client()  # a script replays a token it fetched once, in its own fresh session
    script.get(f"/c/{SLUG}")
    response = script.post(f"/c/{SLUG}/send", data=fields)
    assert response.status_code == 200 and _nothing_recorded(app)
    assert _bot_reasons(app) == ["no_timestamp"]


def test_a_start_token_expires_after_two_hours(app: Flask, client: FlaskClient) -> None:
    fields = _aged(app, _fields(client), bots.FORM_TOKEN_SECONDS + 60, client)
    response = client.post(f"/c/{SLUG}/send", data=fields)
    assert response.status_code == 200 and _nothing_recorded(app)
    assert _bot_reasons(app) == ["expired"]
    fresh = _aged(app, _fields(client), bots.FORM_TOKEN_SECONDS - 60, client)
    assert client.post(f"/c/{SLUG}/send", data=fresh).status_code == 303


def test_a_used_token_is_remembered_until_it_expires_then_forgotten(app: Flask) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from actiontool.models import UsedFormToken, utcnow
    from actiontool.services.bots import use_form_token

    now = utcnow()
    with app.app_context():
        session = db.get_session()
        assert use_form_token(session, "a" * 32, expires_at=now + timedelta(hours=2), now=now)
        assert not use_form_token(session, "a" * 32, expires_at=now + timedelta(hours=2), now=now)
        later = now + timedelta(hours=3)
        assert use_form_token(session, "b" * 32, expires_at=later + timedelta(hours=2), now=later)
        assert session.execute(select(func.count()).select_from(UsedFormToken)).scalar_one() == 1
