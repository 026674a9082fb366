"""Rate limits on lookup and submit: per IP, per e-mail, a friendly 429, shared through Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool import create_app

# These tests hold the API to the shipped data, not to the web tests' tiny dataset.
pytestmark = pytest.mark.bundled_data

REDIS_URL = os.environ.get("ACTIONTOOL_TEST_REDIS_URL")
SLUG = "detect-and-defeat"


@pytest.fixture(params=["memory", "redis"])
def storage_url(request: pytest.FixtureRequest) -> str:
    """Yield the limit storage: memory always; Redis when ACTIONTOOL_TEST_REDIS_URL is set."""
    if request.param == "memory":
        return "memory://"
    if not REDIS_URL:
        pytest.skip("ACTIONTOOL_TEST_REDIS_URL is not set")
    import redis

    redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()  # set but unreachable: fail, not skip
    return REDIS_URL


@pytest.fixture
def limited_config(app_config: dict[str, Any], storage_url: str) -> dict[str, Any]:
    """Return a config with small limits, on a storage key prefix of this test's own."""
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URL": storage_url,
        "RATELIMIT_KEY_PREFIX": "test-" + uuid.uuid4().hex,
        "RATELIMIT_SWALLOW_ERRORS": False,  # a broken storage must fail the test, not pass silently
        "RATELIMIT_LOOKUP": "3/minute",
        "RATELIMIT_COUNT": "4/minute",
        "RATELIMIT_SUBMIT": "3/minute",
        "RATELIMIT_SUBMIT_EMAIL": "2/hour",
    }


@pytest.fixture
def limited(limited_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(limited_config)
    yield app
    app.extensions["actiontool.db"]["engine"].dispose()


def _from(ip: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def _post_send(client: FlaskClient, ip: str, email: str, **extra: str) -> Any:
    return client.post(f"/c/{SLUG}/send", data={"email": email, "lookup_zip": "53703", **extra}, **_from(ip))


def test_lookup_api_answers_429_json_after_the_limit_per_ip(limited: Flask) -> None:
    client = limited.test_client()
    for _ in range(3):
        assert client.get("/api/v1/lookup?zip=53703", **_from("10.0.0.1")).status_code != 429
    response = client.get("/api/v1/lookup?zip=53703", **_from("10.0.0.1"))
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/lookup?zip=53703", **_from("10.0.0.2")).status_code == 200


def test_count_api_has_its_own_limit_per_ip_and_a_429_partner_pages_can_read(limited: Flask) -> None:
    client = limited.test_client()
    path = f"/api/v1/campaigns/{SLUG}/count"
    for _ in range(3):  # lookups from the same address do not use up the count's limit
        assert client.get("/api/v1/lookup?zip=53703", **_from("10.0.5.1")).status_code == 200
    for remaining in (3, 2, 1, 0):
        response = client.get(path, **_from("10.0.5.1"))
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "4"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    response = client.get(f"{path}?ref=partner", **_from("10.0.5.1"))  # a source's count shares the limit
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(path, **_from("10.0.5.2")).status_code == 200


def test_members_page_answers_a_friendly_429_page(limited: Flask) -> None:
    client = limited.test_client()
    for _ in range(3):
        assert client.get(f"/c/{SLUG}/members?zip=53703", **_from("10.0.0.3")).status_code != 429
    response = client.get(f"/c/{SLUG}/members?zip=53703", **_from("10.0.0.3"))
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert b"Please wait a moment" in response.data and b"Traceback" not in response.data
    assert "Retry-After" in response.headers


def test_submit_is_limited_per_ip_whatever_the_email(limited: Flask) -> None:
    client = limited.test_client()
    for i in range(3):
        assert _post_send(client, "10.0.0.4", f"person{i}@example.org").status_code != 429
    assert _post_send(client, "10.0.0.4", "person9@example.org").status_code == 429


def test_submit_is_limited_per_normalised_email_across_addresses(limited: Flask) -> None:
    client = limited.test_client()
    assert _post_send(client, "10.0.1.1", "same@example.org").status_code != 429
    assert _post_send(client, "10.0.1.2", "Same@Example.org ").status_code != 429
    assert _post_send(client, "10.0.1.3", " SAME@example.org").status_code == 429
    assert _post_send(client, "10.0.1.3", "other@example.org").status_code != 429


def test_letter_previews_do_not_count_against_the_submit_limits(limited: Flask) -> None:
    client = limited.test_client()
    for _ in range(5):
        assert _post_send(client, "10.0.2.1", "preview@example.org", preview="1").status_code != 429
    assert _post_send(client, "10.0.2.1", "preview@example.org").status_code != 429


def test_disabled_limits_never_answer_429(app: Flask) -> None:
    client = app.test_client()
    assert all(client.get("/api/v1/lookup?zip=53703").status_code == 200 for _ in range(40))


def test_every_limited_endpoint_exists_and_is_wrapped(limited: Flask) -> None:
    from actiontool.web.limits import ROUTE_LIMITS

    for rule in ROUTE_LIMITS:
        assert rule.endpoint in limited.view_functions, rule.endpoint
        assert hasattr(limited.view_functions[rule.endpoint], "__wrapped__"), rule.endpoint


@pytest.mark.parametrize("storage_url", ["redis"], indirect=True)  # memory is per process by design
def test_redis_storage_is_shared_by_several_web_processes(limited_config: dict[str, Any]) -> None:
    first, second = create_app(limited_config), create_app(limited_config)
    for _ in range(3):
        assert first.test_client().get("/api/v1/lookup?zip=53703", **_from("10.0.3.1")).status_code == 200
    assert second.test_client().get("/api/v1/lookup?zip=53703", **_from("10.0.3.1")).status_code == 429
    for app in (first, second):
        app.extensions["actiontool.db"]["engine"].dispose()


def test_an_unreachable_redis_falls_back_to_memory_instead_of_failing_requests(
        app_config: dict[str, Any]) -> None:
    from tests.scale.servers import free_port

    config = {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_LOOKUP": "3/minute",
              "RATELIMIT_STORAGE_URL": f"redis://127.0.0.1:{free_port()}/0"}  # nothing listens there
    app = create_app(config)
    client = app.test_client()
    statuses = [client.get("/api/v1/lookup?zip=53703", **_from("10.0.4.1")).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
    app.extensions["actiontool.db"]["engine"].dispose()
