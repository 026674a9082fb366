"""Security headers, cookie flags and the secret key."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, session

from actiontool.config import DEFAULT_SECRET_KEY, ConfigError
from actiontool.resources import templates_dir
from actiontool.web import security


@pytest.fixture
def probe_app(app: Flask) -> Flask:
    """Add a page that sets a session cookie and an embed page, as the real ones would."""

    @app.get("/_probe/session")
    def probe_session() -> str:
        session["seen"] = True
        return "ok"

    @app.get("/_probe/embed")
    def embed_probe() -> str:
        return "embed"

    return app


@pytest.mark.parametrize("path", ["/_probe/session", "/api/v1/no-such-thing", "/api/v1/openapi.json"])
def test_every_response_carries_the_security_headers(probe_app: Flask, path: str) -> None:
    response = probe_app.test_client().get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_is_sent_only_over_https(client: Any) -> None:
    response = client.get("/api/v1/no-such-thing", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_only_embed_pages_may_be_framed(probe_app: Flask) -> None:
    response = probe_app.test_client().get("/_probe/embed")
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize("endpoint,embeddable", [
    ("embed.counter", True), ("organizer.embed_code", True), ("public.campaign", False),
    ("api.lookup", False), (None, False),
])
def test_embed_endpoints_are_recognised_by_name(endpoint: str | None, embeddable: bool) -> None:
    assert security.is_embed_endpoint(endpoint) is embeddable


def test_cookies_are_httponly_and_samesite_and_secure_over_https(probe_app: Flask) -> None:
    plain = probe_app.test_client().get("/_probe/session").headers.getlist("Set-Cookie")
    assert plain and all("HttpOnly" in c and "SameSite=Lax" in c and "Secure" not in c for c in plain)
    secure = probe_app.test_client().get("/_probe/session", base_url="https://localhost").headers.getlist("Set-Cookie")
    assert secure and all("HttpOnly" in c and "SameSite=Lax" in c and "Secure" in c for c in secure)


def test_trusted_proxy_headers_make_the_request_secure(app_config: dict[str, Any]) -> None:
    from actiontool import create_app

    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    path = "/api/v1/no-such-thing"
    response = app.test_client().get(path, headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    untrusted = create_app(app_config).test_client().get(path, headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in untrusted.headers


def _bare_app(tmp_path: Path, **config: Any) -> Flask:
    app = Flask("probe", instance_path=str(tmp_path / "instance"))
    app.config.update({"SECRET_KEY": DEFAULT_SECRET_KEY, **config})
    return app


def test_production_refuses_the_default_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ACTIONTOOL_SECRET_KEY"):
        security.resolve_secret_key(_bare_app(tmp_path))


def test_a_configured_secret_key_is_kept(tmp_path: Path) -> None:
    app = _bare_app(tmp_path, SECRET_KEY="a-real-key")
    security.resolve_secret_key(app)
    assert app.config["SECRET_KEY"] == "a-real-key"


def test_the_command_line_generates_a_private_key_once_and_reuses_it(tmp_path: Path) -> None:
    first = _bare_app(tmp_path, GENERATE_SECRET_KEY=True)
    security.resolve_secret_key(first)
    key_file = tmp_path / "instance" / security.SECRET_KEY_FILE
    assert first.config["SECRET_KEY"] != DEFAULT_SECRET_KEY and len(first.config["SECRET_KEY"]) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A later process (gunicorn included) on the same instance folder uses the same key.
    second = _bare_app(tmp_path)
    security.resolve_secret_key(second)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_a_debug_flag_never_enables_the_development_key(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Finding 2 of the hardening issue: FLASK_DEBUG=1 under gunicorn turned on the public key.
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = _bare_app(tmp_path)
    assert app.debug
    with pytest.raises(ConfigError, match="ACTIONTOOL_SECRET_KEY"):
        security.resolve_secret_key(app)


def test_tests_may_use_the_development_key(tmp_path: Path) -> None:
    app = _bare_app(tmp_path, TESTING=True)
    security.resolve_secret_key(app)
    assert app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY


# Content-Security-Policy forbids inline script and inline styles; a template that needs them breaks.
_INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style|javascript:", re.I)


def test_no_template_has_inline_script_handlers_or_styles() -> None:
    offenders = [
        f"{path.relative_to(templates_dir())}:{lineno}: {line.strip()}"
        for path in sorted(templates_dir().rglob("*.html"))
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _INLINE.search(line)
    ]
    assert offenders == []


def test_the_inline_check_notices_an_offender() -> None:
    assert _INLINE.search('<button onclick="go()">') and _INLINE.search("<script>alert(1)</script>")
    assert not _INLINE.search('<script src="/static/app.js" defer></script>')


def test_the_real_embed_page_may_be_framed_and_the_campaign_page_may_not(client: Any) -> None:
    embed = client.get("/embed/detect-and-defeat")
    assert embed.status_code == 200
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    page = client.get("/c/detect-and-defeat")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
