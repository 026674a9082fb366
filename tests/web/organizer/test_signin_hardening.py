"""Sign-in and sessions under attack (hardening issue, findings 4, 5 and 6)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from actiontool import db
from actiontool.services import organizers
from tests.factories import PASSWORD


def _copy_session(app: Flask, signed_in: FlaskClient) -> FlaskClient:
    """Return another client carrying a copy of the signed-in client's session cookie."""
    cookie = signed_in.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


# Finding 6: a copied cookie replayed for 31 days after sign-out.

def test_sign_out_ends_every_copy_of_the_session(app: Flask, signed_in: FlaskClient) -> None:
    thief = _copy_session(app, signed_in)
    assert thief.get("/organizer/").status_code == 200  # the copy works while the session lives
    assert signed_in.post("/organizer/logout").status_code == 302
    assert thief.get("/organizer/").status_code == 302
    assert thief.get("/organizer/audit").status_code == 302


def test_disabling_an_organizer_ends_every_copy_of_their_session(app: Flask, signed_in: FlaskClient,
                                                                 organizer: str) -> None:
    thief = _copy_session(app, signed_in)
    with db.session_scope(app) as s:
        organizers.disable(s, organizer)
    assert thief.get("/organizer/").status_code == 302


def test_signing_in_again_after_sign_out_starts_a_fresh_session(app: Flask, signed_in: FlaskClient,
                                                                organizer: str) -> None:
    old = _copy_session(app, signed_in)
    signed_in.post("/organizer/logout")
    response = signed_in.post("/organizer/login", data={"email": organizer, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in.get("/organizer/").status_code == 200
    assert old.get("/organizer/").status_code == 302  # the cookie from before the sign-out stays dead


def test_session_protection_ignores_a_clients_own_forwarded_for(signed_in: FlaskClient) -> None:
    # TRUSTED_PROXIES=0: X-Forwarded-For is the client's word; "strong" protection must not read it.
    assert signed_in.get("/organizer/", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
    # A session that moves to another address is still ended ("strong" protection).
    moved = signed_in.get("/organizer/", environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert moved.status_code == 302


def test_session_protection_follows_a_trusted_proxys_address(app_config: dict[str, Any]) -> None:
    from actiontool import create_app

    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
    client = app.test_client()
    via = {"X-Forwarded-For": "203.0.113.9"}
    assert client.post("/organizer/login", data={"email": "org@example.org", "password": PASSWORD},
                       headers=via).status_code == 302
    assert client.get("/organizer/", headers=via).status_code == 200
    assert client.get("/organizer/", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 302
    app.extensions["actiontool.db"]["engine"].dispose()
