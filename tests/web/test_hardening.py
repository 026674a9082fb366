"""The hardening issue's findings on the public side: each test reproduces one finding and shows it closed."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

import pytest
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


# Finding 1: links in the receipt e-mail and the embed were built from the request's Host and
# X-Forwarded-Prefix, so anyone could make our mail server send a link to their site.

def _app(app_config: dict[str, Any], **config: Any) -> Flask:
    from actiontool import create_app

    return create_app({**app_config, **config})


def _submit_from(app: Flask, email: str = "ana@example.com", **request_kwargs: Any) -> Any:
    client = app.test_client()
    response = send_with(client, email, **request_kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    actions, _ = rows(app)
    return actions[-1]


def send_with(client: FlaskClient, email: str, **request_kwargs: Any) -> Any:
    """Send the letter form with extra request arguments (headers, base_url) on every request."""
    from tests.web.flow_helpers import GOOD, form_fields, page

    members = client.get(f"/c/{SLUG}/members?zip=53001", **request_kwargs)
    assert members.status_code == 200
    data = {**form_fields(page(members)), **GOOD, "zip": "53001", "send": "1", "wants_receipt": "y",
            "email": email}
    return client.post(f"/c/{SLUG}/send", data=data, **request_kwargs)


def test_a_host_outside_the_allow_list_gets_400(app: Flask) -> None:
    client = app.test_client()
    assert client.get(f"/c/{SLUG}").status_code == 200
    assert client.get(f"/c/{SLUG}", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/v1/lookup?zip=53001", headers={"Host": "evil.example"}).status_code == 400


def test_without_base_url_or_allow_list_no_receipt_link_is_stored(app_config: dict[str, Any]) -> None:
    app = _app(app_config, ALLOWED_HOSTS=None, BASE_URL=None)
    action = _submit_from(app, headers={"Host": "evil.example"})
    assert action.wants_receipt_email is True and action.receipt_base_url is None


def test_base_url_is_the_receipt_origin_whatever_the_host(app_config: dict[str, Any]) -> None:
    app = _app(app_config, ALLOWED_HOSTS=None, BASE_URL="https://act.example.org")
    action = _submit_from(app, headers={"Host": "evil.example"})
    assert action.receipt_base_url == "https://act.example.org"


def test_a_forwarded_prefix_is_not_believed_unless_configured(app_config: dict[str, Any]) -> None:
    headers = {"X-Forwarded-Prefix": "@evil.example", "X-Forwarded-Port": "8443",
               "X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost", "X-Forwarded-For": "1.2.3.4"}
    app = _app(app_config, TRUSTED_PROXIES=1)
    action = _submit_from(app, headers=headers)
    assert action.receipt_base_url == "https://localhost"
    trusting = _app(app_config, TRUSTED_PROXIES=1, TRUST_FORWARDED_PREFIX=True)
    assert _submit_from(trusting, "bo@example.com", headers={**headers, "X-Forwarded-Prefix": "/act"}
                        ).receipt_base_url == "https://localhost/act"


def test_a_forwarded_host_outside_the_allow_list_gets_400(app_config: dict[str, Any]) -> None:
    app = _app(app_config, TRUSTED_PROXIES=1)
    response = app.test_client().get(f"/c/{SLUG}", headers={"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 400


def test_the_embed_link_never_takes_the_request_host(app_config: dict[str, Any]) -> None:
    app = _app(app_config, ALLOWED_HOSTS=None, BASE_URL=None)
    page = app.test_client().get(f"/embed/{SLUG}?ref=p1", headers={"Host": "evil.example"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "evil.example" not in html and f'href="/c/{SLUG}?ref=p1"' in html
    based = _app(app_config, BASE_URL="https://act.example.org")
    html = based.test_client().get(f"/embed/{SLUG}").get_data(as_text=True)
    assert f'href="https://act.example.org/c/{SLUG}"' in html


@pytest.mark.parametrize("config,says", [({"ALLOWED_HOSTS": None, "BASE_URL": None}, True),
                                         ({"ALLOWED_HOSTS": "act.example.org"}, False),
                                         ({"ALLOWED_HOSTS": None, "BASE_URL": "https://a.example"}, False)])
def test_serve_says_when_receipt_emails_are_off(app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                                config: dict[str, Any], says: bool) -> None:
    import werkzeug.serving

    from actiontool.cli.serve import serve

    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **k: None)
    app = _app(app_config, **config)
    result = app.test_cli_runner().invoke(serve, ["--no-worker"])
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if "receipt e-mails are off" in line]
    assert len(said) == (1 if says else 0)
