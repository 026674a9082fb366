"""Finding 12 of the hardening issue: the letter preview is CSRF-checked and rate-limited like a lookup."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool import create_app
from actiontool.models import Action
from tests.web.flow_helpers import GOOD, SLUG, compose, count, form_fields, page, text_of

MARKER = "Zebulon-Preview-Marker"


def _preview(client: FlaskClient, fields: dict[str, str], **environ: Any) -> Any:
    data = {**fields, **GOOD, "first_name": MARKER, "preview": "1"}
    return client.post(f"/c/{SLUG}/send", data=data, **environ)


class TestPreviewWithCsrf:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_anonymous_previews_without_a_token_are_refused_and_render_nothing_posted(
            self, app: Flask) -> None:
        _doc, fields = compose(app.test_client())
        fields.pop("csrf_token")
        for _ in range(40):
            response = _preview(app.test_client(), fields)  # a fresh client each time: no session
            assert response.status_code == 400
            body = response.get_data(as_text=True)
            letters = page(response).xpath("//pre[@class='letter']")
            assert letters and MARKER not in "".join(p.text_content() for p in letters)
            assert "This form expired" in text_of(response)
            assert "Traceback" not in body
        assert count(app, Action) == 0

    def test_a_preview_with_the_pages_token_renders_and_keeps_a_fresh_token(self, app: Flask,
                                                                             client: FlaskClient) -> None:
        _doc, fields = compose(client)
        response = _preview(client, fields)
        assert response.status_code == 200
        assert "Dear Representative One" in text_of(response)
        assert MARKER in text_of(response)
        assert form_fields(page(response))["csrf_token"]
        again = _preview(client, form_fields(page(response)))
        assert again.status_code == 200

    def test_a_refused_preview_keeps_what_was_typed_so_the_button_works_again(self, app: Flask,
                                                                              client: FlaskClient) -> None:
        _doc, fields = compose(client)
        refused = _preview(client, {**fields, "csrf_token": "stale"})
        assert refused.status_code == 400
        kept = form_fields(page(refused))
        assert kept["first_name"] == MARKER and kept["csrf_token"] != "stale"
        assert _preview(client, kept).status_code == 200


@pytest.fixture
def preview_limited(app_config: dict[str, Any]) -> Any:
    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URL": "memory://",
                      "RATELIMIT_KEY_PREFIX": "test-" + uuid.uuid4().hex, "RATELIMIT_SWALLOW_ERRORS": False,
                      "RATELIMIT_LOOKUP": "100/minute", "RATELIMIT_PREVIEW": "3/minute",
                      "RATELIMIT_SUBMIT": "100/minute", "RATELIMIT_SUBMIT_EMAIL": "100/hour"})
    yield app
    app.extensions["actiontool.db"]["engine"].dispose()


def test_previews_answer_429_after_the_preview_limit_per_ip(preview_limited: Flask) -> None:
    client = preview_limited.test_client()
    _doc, fields = compose(client)
    ip = {"environ_base": {"REMOTE_ADDR": "10.9.0.1"}}
    for _ in range(3):
        assert _preview(client, fields, **ip).status_code == 200
    refused = _preview(client, fields, **ip)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert MARKER not in refused.get_data(as_text=True)
    assert _preview(client, fields, environ_base={"REMOTE_ADDR": "10.9.0.2"}).status_code == 200


def test_sending_does_not_count_against_the_preview_limit(preview_limited: Flask) -> None:
    client = preview_limited.test_client()
    _doc, fields = compose(client)
    ip = {"environ_base": {"REMOTE_ADDR": "10.9.1.1"}}
    for i in range(3):
        data = {**fields, **GOOD, "email": f"p{i}@example.org", "send": "1"}
        assert client.post(f"/c/{SLUG}/send", data=data, **ip).status_code != 429
    assert _preview(client, fields, **ip).status_code == 200
