"""Sign-in and sessions under attack (hardening issue, findings 4, 5 and 6)."""

from __future__ import annotations

from typing import Any

import pytest
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


# Finding 4: 40 concurrent wrong passwords for one account got 17 password checks on PostgreSQL.

def _audit(app: Flask, kind: str) -> list[Any]:
    from sqlalchemy import select

    from actiontool.models import AuditEvent

    with db.session_scope(app) as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.kind == kind)
                              .order_by(AuditEvent.id)).scalars())


def test_concurrent_wrong_passwords_get_only_the_allowed_password_checks(app: Flask, organizer: str,
                                                                          monkeypatch: Any) -> None:
    import threading

    checks: list[int] = []
    real_check = organizers.check_password_hash

    def counting_check(hashed: str, password: str) -> bool:
        checks.append(1)
        return real_check(hashed, password)

    monkeypatch.setattr(organizers, "check_password_hash", counting_check)
    start = threading.Barrier(40)
    statuses: list[int] = []

    def guess() -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/organizer/login", data={"email": organizer, "password": "wrong guess!!"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(set(statuses)) == [401, 429] and len(statuses) == 40
    assert len(checks) == organizers.MAX_FAILURES_PER_ACCOUNT
    assert statuses.count(401) == organizers.MAX_FAILURES_PER_ACCOUNT


# Finding 5: a stranger locked the real organizer out; each refused attempt wrote an audit row; the
# form had no rate limit and took 320 characters of anything as an e-mail.

def test_a_stranger_cannot_lock_the_organizer_out_from_elsewhere(app: Flask, organizer: str) -> None:
    stranger = app.test_client()
    for _ in range(organizers.MAX_FAILURES_PER_ACCOUNT + 3):
        stranger.post("/organizer/login", data={"email": organizer, "password": "wrong guess!!"},
                      environ_base={"REMOTE_ADDR": "203.0.113.66"})
    assert stranger.post("/organizer/login", data={"email": organizer, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "203.0.113.66"}).status_code == 429
    real = app.test_client()
    response = real.post("/organizer/login", data={"email": organizer, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "198.51.100.20"})
    assert response.status_code == 302


def test_a_burst_of_refused_attempts_writes_one_audit_row_with_a_count(app: Flask, client: FlaskClient,
                                                                       organizer: str) -> None:
    wrong = {"email": organizer, "password": "wrong guess!!"}
    for _ in range(organizers.MAX_FAILURES_PER_ACCOUNT):
        assert client.post("/organizer/login", data=wrong).status_code == 401
    for _ in range(30):
        assert client.post("/organizer/login", data=wrong).status_code == 429
    [burst] = _audit(app, organizers.SIGN_IN_THROTTLED)
    assert burst.detail == "30 attempts refused in this burst" and burst.actor == organizer
    assert len(_audit(app, organizers.SIGN_IN_FAILED)) == organizers.MAX_FAILURES_PER_ACCOUNT


def test_a_success_clears_the_account_and_address_count(app: Flask, client: FlaskClient,
                                                        organizer: str) -> None:
    wrong = {"email": organizer, "password": "wrong guess!!"}
    for _ in range(organizers.MAX_FAILURES_PER_ACCOUNT - 1):
        client.post("/organizer/login", data=wrong)
    assert client.post("/organizer/login", data={"email": organizer, "password": PASSWORD}).status_code == 302
    client.post("/organizer/logout")
    for _ in range(organizers.MAX_FAILURES_PER_ACCOUNT - 1):
        assert client.post("/organizer/login", data=wrong).status_code == 401


def test_the_window_ends_and_attempts_are_counted_afresh(app: Flask, client: FlaskClient, organizer: str,
                                                         monkeypatch: Any) -> None:
    from datetime import timedelta

    wrong = {"email": organizer, "password": "wrong guess!!"}
    for _ in range(organizers.MAX_FAILURES_PER_ACCOUNT + 1):
        client.post("/organizer/login", data=wrong)
    later = organizers.utcnow() + organizers.THROTTLE_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(organizers, "utcnow", lambda: later)
    assert client.post("/organizer/login", data={"email": organizer, "password": PASSWORD}).status_code == 302


def test_the_sign_in_form_is_rate_limited_per_address(app_config: dict[str, Any]) -> None:
    from actiontool import create_app

    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3/minute"})
    client = app.test_client()
    statuses = [client.post("/organizer/login", data={"email": f"g{i}@example.org", "password": "x" * 12}
                            ).status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    elsewhere = client.post("/organizer/login", data={"email": "g@example.org", "password": "x" * 12},
                            environ_base={"REMOTE_ADDR": "198.51.100.30"})
    assert elsewhere.status_code == 401
    app.extensions["actiontool.db"]["engine"].dispose()


@pytest.mark.parametrize("email", ["x" * 320, "a" * 250 + "@example.org", "not an address",
                                   "org@example.org\r\nBcc: x@example.org", "a@b", "@example.org"])
def test_the_email_field_takes_only_an_address(app: Flask, client: FlaskClient, email: str) -> None:
    response = client.post("/organizer/login", data={"email": email, "password": "x" * 12})
    assert response.status_code == 400
    assert _audit(app, organizers.SIGN_IN_FAILED) == []  # refused before any database work
