"""Deployment smoke test: gunicorn web processes plus a separate `actiontool worker` process, on
PostgreSQL when ACTIONTOOL_TEST_DATABASE_URL is set (else SQLite), send one constituent's letters end to
end through a real SMTP server on loopback, with CSRF, cookies and the bot check as in production."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import lxml.html
import pytest
import requests
from aiosmtpd.controller import Controller

from tests.delivery.conftest import SmtpSink
from tests.factories import write_campaign
from tests.scale import servers
from tests.web.flow_helpers import GOOD, form_fields

pytestmark = pytest.mark.slow

PG_URL = os.environ.get("ACTIONTOOL_TEST_DATABASE_URL")
SLUG = "smoke"
ZIP = "05401"  # Vermont: one at-large Representative (hand-off) and two Senators (e-mail)


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink("127.0.0.1", servers.free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.mark.parametrize("database", ["postgresql" if PG_URL else "sqlite"])
def test_gunicorn_and_a_separate_worker_deliver_one_submission_end_to_end(tmp_path: Path,
                                                                          database: str) -> None:
    with ExitStack() as stack:
        sink = stack.enter_context(smtp_sink())
        if database == "postgresql":
            url = stack.enter_context(servers.postgres_schema(PG_URL))  # type: ignore[arg-type]
        else:
            url = f"sqlite:///{tmp_path / 'smoke.sqlite3'}"
        write_campaign(tmp_path / "campaigns", SLUG, house="handoff", senate="smtp", bill=False)
        settings = {
            "DATABASE_URL": url, "SECRET_KEY": "smoke-test-secret-key",
            "CAMPAIGNS_DIR": tmp_path / "campaigns",
            "SMTP_HOST": sink.host, "SMTP_PORT": sink.port, "SMTP_TLS": "none",
            "MAIL_FROM": "letters@act.example.org", "BASE_URL": "http://act.example.org",
            "DELIVERY_POLL_SECONDS": 0.2, "RATELIMIT_STORAGE_URL": "memory://",
            "BOT_MIN_FILL_SECONDS": 0,  # the script fills the form at once; the bot tests cover the check
        }
        log = tmp_path / "servers.log"
        # As docs/DEPLOY.md runs it: the app created once in the master, the dataset loaded before the fork.
        base = stack.enter_context(servers.gunicorn(settings, workers=2, log=log, app="actiontool.wsgi:app",
                                                    extra_args=("--preload",)))
        stack.enter_context(servers.workers(settings, 1, log=log))

        http = requests.Session()
        members = http.get(f"{base}/c/{SLUG}/members", params={"zip": ZIP}, timeout=10)
        assert members.status_code == 200, members.text[:2000]
        fields = form_fields(lxml.html.fromstring(members.text))
        assert fields["csrf_token"]  # CSRF is on, as in production
        sent = http.post(f"{base}/c/{SLUG}/send", data={**fields, **GOOD, "zip": ZIP, "send": "1"},
                         allow_redirects=False, timeout=10)
        assert sent.status_code == 303, sent.text[:2000]
        receipt_url = base + sent.headers["Location"]

        deadline = time.monotonic() + 60
        while len(sink.messages) < 2 and time.monotonic() < deadline:
            sink.received.wait(timeout=1)
            sink.received.clear()
        assert len(sink.messages) == 2, log.read_text()[-4000:]
        assert [m["To"] for m in sink.messages] == ["senate-desk@example.org"] * 2
        assert "Dear Senator" in sink.messages[0].get_content()
        assert all(m["Reply-To"] and "ana@example.com" in m["Reply-To"].lower() for m in sink.messages)

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            receipt = http.get(receipt_url, timeout=10)
            if receipt.text.count("Delivered to the office") == 2:
                break
            time.sleep(0.2)
        assert receipt.text.count("Delivered to the office") == 2, receipt.text[:3000]
        assert "Waiting for you to send it" in receipt.text  # the hand-off letter to the Representative
        assert "Content-Security-Policy" in receipt.headers
    assert "Traceback" not in log.read_text()
