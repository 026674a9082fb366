"""The lookup API's cached answers: byte for byte what jsonify gives, with validators; no session for the API;
limits checked the cheap way and still enforced."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import limits.storage.memory
import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from actiontool import create_app, registry
from actiontool.districts import InvalidZip, NotFound, load
from actiontool.web import lookup as lookup_web
from actiontool.web.limits import InlineExpiryMemoryStorage, limiter


def _uncached(app: Flask, zip_text: str) -> tuple[int, bytes]:
    """Return the answer the view gave before answers were cached: jsonify of the Lookup, or the error."""
    with app.test_request_context():
        try:
            result = registry.dataset(app).lookup(zip_text)
        except InvalidZip:
            return 400, b""
        except NotFound:
            return 404, b""
        return 200, jsonify(result.to_json()).get_data()


def _tiny_zips(app: Flask) -> list[str]:
    return sorted(registry.dataset(app).zip_codes())


def test_every_zip_answers_the_same_bytes_cached_and_uncached(app: Flask, client: FlaskClient) -> None:
    zips = _tiny_zips(app)
    assert len(zips) > 10
    for zip_code in zips:
        status, expected = _uncached(app, zip_code)
        first = client.get(f"/api/v1/lookup?zip={zip_code}")  # builds the cached answer
        again = client.get(f"/api/v1/lookup?zip={zip_code}")  # served from the cache
        plus_four = client.get(f"/api/v1/lookup?zip={zip_code}-1234")
        assert first.status_code == again.status_code == plus_four.status_code == status == 200
        assert first.get_data() == again.get_data() == plus_four.get_data() == expected, zip_code
        assert first.headers["Content-Type"] == "application/json"
        assert first.headers["Content-Length"] == str(len(expected))
        # The headers that matter, the same on every path: the answer's, its validators and the policy's.
        assert _headers(first) == _headers(again) == _headers(plus_four) == {
            "Content-Type": "application/json", "Content-Length": str(len(expected)),
            "ETag": first.headers["ETag"], "Cache-Control": "public, max-age=86400", **POLICY}, zip_code


POLICY = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _headers(response: Any) -> dict[str, str]:
    """Return every header of an answer (each name once: none may be repeated, no cookie set)."""
    names = [name for name, _ in response.headers.items()]
    assert len(names) == len(set(names)), names
    return dict(response.headers.items())


def test_the_count_carries_the_same_headers_cached_and_uncached(app: Flask, client: FlaskClient) -> None:
    campaign = next(c for c in registry.all_campaigns(app).values() if c.is_public)
    url = f"/api/v1/campaigns/{campaign.slug}/count"
    first, again = client.get(url), client.get(url)
    assert _headers(first) == _headers(again) == {
        "Content-Type": "application/json", "Content-Length": str(len(first.get_data())),
        "Cache-Control": "public, max-age=5", "Access-Control-Allow-Origin": "*", **POLICY}


def test_https_answers_add_hsts(client: FlaskClient) -> None:
    secure = client.get("/api/v1/lookup?zip=53001", base_url="https://localhost")
    assert _headers(secure)["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/api/v1/lookup?zip=53001").headers


def test_a_policy_header_the_view_set_itself_is_not_repeated(signed_in: FlaskClient) -> None:
    export = signed_in.get("/organizer/c/detect-and-defeat/export.csv?by=state")  # sets nosniff itself
    assert export.status_code == 200
    headers = _headers(export)
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"


def test_the_answer_carries_an_etag_and_a_days_cache_control(client: FlaskClient) -> None:
    zips = ["53001", "53003", "99501"]
    tags = {z: client.get(f"/api/v1/lookup?zip={z}").headers["ETag"] for z in zips}
    assert len(set(tags.values())) == len(zips)  # different answers, different tags
    assert all(t.startswith('"') and t.endswith('"') for t in tags.values())
    response = client.get("/api/v1/lookup?zip=53001")
    assert response.headers["ETag"] == tags["53001"]
    assert response.headers["Cache-Control"] == "public, max-age=86400"


@pytest.mark.parametrize("header", ["{tag}", "W/{tag}", '"other", {tag}', "*"])
def test_a_matching_if_none_match_gets_304_without_a_body(client: FlaskClient, header: str) -> None:
    tag = client.get("/api/v1/lookup?zip=53001").headers["ETag"]
    response = client.get("/api/v1/lookup?zip=53001", headers={"If-None-Match": header.format(tag=tag)})
    assert response.status_code == 304
    assert response.get_data() == b""
    assert "Content-Length" not in response.headers  # a cache must not take the answer's length as 0
    assert response.headers["ETag"] == tag
    assert response.headers["Cache-Control"] == "public, max-age=86400"


def test_another_zips_etag_gets_the_full_answer(client: FlaskClient) -> None:
    other = client.get("/api/v1/lookup?zip=53003").headers["ETag"]
    response = client.get("/api/v1/lookup?zip=53001", headers={"If-None-Match": other})
    assert response.status_code == 200
    assert response.get_json()["query"] == {"zip": "53001"}


@pytest.mark.parametrize(("query", "status"),
                         [("zip=1234", 400), ("zip=00000", 404), ("zip=53001&lat=1", 400)])
def test_errors_are_not_cached_or_given_validators(client: FlaskClient, query: str, status: int) -> None:
    for _ in range(2):
        response = client.get(f"/api/v1/lookup?{query}")
        assert response.status_code == status
        assert response.get_json()["error"]["code"]
        assert "ETag" not in response.headers
        assert "Cache-Control" not in response.headers


def test_a_new_dataset_starts_a_new_cache(app: Flask, tiny_data_dir: Path) -> None:
    first = lookup_web.answers(app)
    assert lookup_web.answers(app) is first
    app.extensions["actiontool.dataset"] = load(tiny_data_dir)  # what loading another release does
    assert lookup_web.answers(app) is not first


def test_the_cache_is_bounded(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup_web, "CACHE_ZIPS", 3)
    app.extensions.pop("actiontool.lookup_answers", None)
    answer = lookup_web.answers(app)
    client = app.test_client()
    for zip_code in _tiny_zips(app)[:6]:
        client.get(f"/api/v1/lookup?zip={zip_code}")
    assert answer.cache_info().currsize == 3  # type: ignore[attr-defined]


def test_api_requests_open_no_session_and_set_no_cookie(app: Flask, client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["receipts"] = ["abc"]  # a browser that has sent a letter carries a session cookie
    response = client.get("/api/v1/lookup?zip=53001")
    assert "Set-Cookie" not in response.headers
    with app.test_request_context("/api/v1/lookup?zip=53001"):
        from flask import request

        assert app.session_interface.is_null_session(app.session_interface.open_session(app, request))
    with app.test_request_context("/c/x"):
        from flask import request

        opened = app.session_interface.open_session(app, request)
        assert opened is not None and not app.session_interface.is_null_session(opened)


def test_pages_still_keep_their_session(app: Flask) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["receipts"] = ["abc"]
    with client.session_transaction() as session:
        assert session["receipts"] == ["abc"]


def test_with_limits_off_the_view_is_not_wrapped(app: Flask) -> None:
    assert app.view_functions["api.lookup"] is lookup_web.lookup_view


@pytest.fixture
def limited(app_config: dict[str, Any]) -> Flask:
    return create_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_LOOKUP": "5/minute"})


def test_with_limits_on_lookups_are_limited_and_report_their_headers(limited: Flask) -> None:
    client = limited.test_client()
    answers = [client.get("/api/v1/lookup?zip=53001") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert answers[5].get_json()["error"]["code"] == "rate_limited"
    assert int(answers[5].headers["Retry-After"]) > 0
    assert limited.view_functions["api.lookup"] is not lookup_web.lookup_view


def test_memory_limits_start_no_thread_per_request(limited: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(limiter(limited)._storage, InlineExpiryMemoryStorage)
    started: list[Any] = []

    class CountingTimer(threading.Timer):
        def start(self) -> None:
            started.append(self)
            super().start()

    monkeypatch.setattr(limits.storage.memory.threading, "Timer", CountingTimer)
    client = limited.test_client()
    for i in range(20):
        client.get("/api/v1/lookup?zip=53001", environ_base={"REMOTE_ADDR": f"10.9.0.{i}"})
    assert started == []


def test_memory_limits_sweep_expired_counters(limited: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = limiter(limited)._storage
    client = limited.test_client()
    for i in range(10):
        client.get("/api/v1/lookup?zip=53001", environ_base={"REMOTE_ADDR": f"10.8.0.{i}"})
    assert len(storage.storage) >= 10
    later = time.time() + 120  # past the minute window of every counter
    monkeypatch.setattr(time, "time", lambda: later)
    client.get("/api/v1/lookup?zip=53001", environ_base={"REMOTE_ADDR": "10.8.1.1"})
    assert len(storage.storage) == 1  # only the newest client's counter is left


def test_the_session_signer_is_built_once_per_key(app: Flask) -> None:
    sessions = app.session_interface
    first = sessions.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert sessions.get_signing_serializer(app) is first  # type: ignore[attr-defined]
    app.secret_key = "another-secret-key-long-enough-for-this-test"
    second = sessions.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert second is not first
    assert second.loads(second.dumps({"a": 1})) == {"a": 1}
    with pytest.raises(Exception, match="Signature"):
        second.loads(first.dumps({"a": 1}))  # a cookie signed with the old key is refused


SLUG_OF_TINY = "detect-and-defeat"


def test_a_limited_request_is_checked_once(limited: Flask) -> None:
    instance = limiter(limited)
    assert instance._check_request_limit not in limited.before_request_funcs.get(None, [])
    resolved: list[Any] = []
    manager = instance.limit_manager
    original = manager.resolve_limits

    def counting(*args: Any, **kwargs: Any) -> Any:
        resolved.append(args)
        return original(*args, **kwargs)

    manager.resolve_limits = counting  # type: ignore[method-assign]
    storage = instance.storage
    hits: list[Any] = []
    incr = storage.incr

    def counting_incr(*args: Any, **kwargs: Any) -> Any:
        hits.append(args)
        return incr(*args, **kwargs)

    storage.incr = counting_incr  # type: ignore[method-assign]
    client = limited.test_client()
    lookup = client.get("/api/v1/lookup?zip=53001")
    assert lookup.status_code == 200
    # The lookup API is checked by DirectLimit: one storage hit, no resolution by Flask-Limiter.
    assert resolved == [] and len(hits) == 1
    assert lookup.headers["X-RateLimit-Limit"] == "5" and lookup.headers["X-RateLimit-Remaining"] == "4"
    assert int(lookup.headers["X-RateLimit-Reset"]) > time.time()
    assert 0 <= int(lookup.headers["Retry-After"]) <= 60
    members = client.get(f"/c/{SLUG_OF_TINY}/members?zip=53001")
    assert members.status_code == 200
    assert len(resolved) == 1 and len(hits) == 2  # Flask-Limiter's one pass for the members page
    # The same headers whichever checks the limit.
    names = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"}
    assert names <= set(lookup.headers.keys()) and names <= set(members.headers.keys())


def test_the_count_answers_jsonify_bytes_and_follows_its_cache(app: Flask, client: FlaskClient) -> None:
    from actiontool.web.embed import public_count

    campaign = next(c for c in registry.all_campaigns(app).values() if c.is_public)
    for ref in (None, "partner-a"):
        query = f"?ref={ref}" if ref else ""
        first = client.get(f"/api/v1/campaigns/{campaign.slug}/count{query}")
        again = client.get(f"/api/v1/campaigns/{campaign.slug}/count{query}")
        with app.test_request_context():
            payload = public_count(app, campaign.slug, int(campaign.goal), campaign.counter, ref)
            expected = jsonify(payload).get_data()
        assert first.status_code == again.status_code == 200
        assert first.get_data() == again.get_data() == expected
        assert first.headers["Content-Type"] == "application/json"
    app.extensions["actiontool.count_cache"].clear()  # the cache expires: a new payload, new bytes
    with app.test_request_context():
        changed = {**public_count(app, campaign.slug, int(campaign.goal), campaign.counter), "goal": -1}
    app.extensions["actiontool.count_cache"][(campaign.slug, None)] = (time.monotonic() + 60, changed)
    assert client.get(f"/api/v1/campaigns/{campaign.slug}/count").get_json()["goal"] == -1
