"""The hardening issue's findings on the public side: each test reproduces one finding and shows it closed."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.web.flow_helpers import SLUG, rows, send


def _session_cookie(client: FlaskClient) -> dict[str, Any]:
    """Return the decoded payload of the client's signed (not encrypted) session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    payload = cookie.value.split(".")[0] if not cookie.value.startswith(".") else cookie.value.split(".")[1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if cookie.value.startswith("."):
        raw = zlib.decompress(raw)
    return json.loads(raw)


# Finding 16: the receipt page had no Cache-Control, and receipt tokens sat readable in the cookie.

def test_the_receipt_is_never_cached(client: FlaskClient) -> None:
    response = send(client)
    assert response.status_code == 303
    receipt = client.get(response.headers["Location"])
    assert receipt.status_code == 200
    assert receipt.headers["Cache-Control"] == "no-store"


def test_organizer_pages_are_never_cached(signed_in: FlaskClient) -> None:
    for path in ("/organizer/", f"/organizer/c/{SLUG}", "/organizer/login"):
        assert signed_in.get(path).headers.get("Cache-Control") == "no-store", path


def test_public_campaign_pages_keep_their_caching(client: FlaskClient) -> None:
    assert client.get(f"/c/{SLUG}").headers.get("Cache-Control") != "no-store"


def test_the_session_cookie_does_not_hold_the_receipt_token(client: FlaskClient, app: Flask) -> None:
    response = send(client)
    token = response.headers["Location"].rsplit("/", 1)[-1]
    actions, _ = rows(app)
    assert actions[0].receipt_token == token
    assert token not in json.dumps(_session_cookie(client))
    # The browser that wrote the letter is still sent back to its receipt on a repeat.
    again = send(client)
    assert again.status_code == 303 and again.headers["Location"].endswith(token)
