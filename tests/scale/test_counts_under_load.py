"""Counts stay exact under load: 32 concurrent submitters over HTTP (gunicorn), two `actiontool worker`
processes delivering by SMTP, constituents clicking "I sent it", and `counts.rebuild` in a loop, on SQLite
and on PostgreSQL when ACTIONTOOL_TEST_DATABASE_URL is set. No answer is a 5xx, and afterwards every
roll-up row of every slot equals a brute-force recount of the messages and actions."""

from __future__ import annotations

import os
import random
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import lxml.html
import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actiontool.db import make_engine
from actiontool.models import STATUSES, Action, Message
from actiontool.services import counts
from tests.factories import write_campaign
from tests.scale import servers
from tests.scale.test_deploy_smoke import smtp_sink
from tests.services.test_count_slots import assert_every_slot_exact
from tests.web.flow_helpers import GOOD, form_fields

pytestmark = pytest.mark.slow

PG_URL = os.environ.get("ACTIONTOOL_TEST_DATABASE_URL")
SLUG = "national"
ZIP = "05401"  # Vermont: one at-large Representative (hand-off) and two Senators (e-mail)
SUBMITTERS = 32
PER_SUBMITTER = 6


def _submitter(base: str, n: int, answers: list[int], errors: list[BaseException]) -> None:
    """Write PER_SUBMITTER letters as constituents would; click "I sent it" on some receipts."""
    rng = random.Random(n)
    try:
        for i in range(PER_SUBMITTER):
            http = requests.Session()
            page = http.get(f"{base}/c/{SLUG}/members", params={"zip": ZIP}, timeout=60)
            answers.append(page.status_code)
            fields = form_fields(lxml.html.fromstring(page.text))
            # A few repeats of an earlier writer: de-duplication drops them while everything else runs.
            email = f"w{n}-{rng.randrange(PER_SUBMITTER + 2)}@example.org"
            sent = http.post(f"{base}/c/{SLUG}/send", data={**fields, **GOOD, "email": email, "zip": ZIP,
                                                             "send": "1"}, allow_redirects=False, timeout=60)
            answers.append(sent.status_code)
            if sent.status_code == 303 and i % 2 == 0:
                receipt = http.get(base + sent.headers["Location"], timeout=60)
                answers.append(receipt.status_code)
                doc = lxml.html.fromstring(receipt.text)
                for form in doc.forms:
                    if "/sent/" in (form.action or ""):
                        data = {k: v for k, v in form.form_values()}
                        clicked = http.post(base + form.action, data=data, allow_redirects=False, timeout=60)
                        answers.append(clicked.status_code)
    except BaseException as exc:
        errors.append(exc)


def _rebuild_loop(url: str, stop: threading.Event, done: list[int], errors: list[BaseException]) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            while not stop.is_set():
                counts.rebuild(session, SLUG)
                done.append(1)
                time.sleep(0.2)
    except BaseException as exc:
        errors.append(exc)
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", *(["postgresql"] if PG_URL else [])])
def test_counts_stay_exact_with_32_submitters_two_workers_and_rebuilds(tmp_path: Path, database: str) -> None:
    with ExitStack() as stack:
        sink = stack.enter_context(smtp_sink())
        if database == "postgresql":
            url = stack.enter_context(servers.postgres_schema(PG_URL))  # type: ignore[arg-type]
        else:
            url = f"sqlite:///{tmp_path / 'load.sqlite3'}"
        write_campaign(tmp_path / "campaigns", SLUG, house="handoff", senate="smtp", bill=False)
        settings = {
            "DATABASE_URL": url, "SECRET_KEY": "load-test-secret-key",
            "CAMPAIGNS_DIR": tmp_path / "campaigns",
            "SMTP_HOST": sink.host, "SMTP_PORT": sink.port, "SMTP_TLS": "none",
            "MAIL_FROM": "letters@act.example.org", "BASE_URL": "http://act.example.org",
            "DELIVERY_POLL_SECONDS": 0.2, "RATELIMIT_ENABLED": "false", "BOT_MIN_FILL_SECONDS": 0,
        }
        log = tmp_path / "servers.log"
        # On PostgreSQL 4 processes × 8 threads serve the 32 submitters at once, each on its own connection.
        # SQLite has one writer at a time: two sync processes, as docs/DEPLOY.md runs it (with more, the
        # workers' transactions can wait past SQLite's busy timeout behind a queue of submits).
        threads = ("--threads", "8") if database == "postgresql" else ()
        base = stack.enter_context(servers.gunicorn(
            settings, workers=4 if database == "postgresql" else 2, log=log, app="actiontool.wsgi:app",
            extra_args=("--preload", *threads)))
        stack.enter_context(servers.workers(settings, 2, log=log))
        engine_url = url.replace("postgresql://", "postgresql+psycopg://")
        answers: list[int] = []
        errors: list[BaseException] = []
        stop, rebuilds = threading.Event(), []
        rebuilder = threading.Thread(target=_rebuild_loop, args=(engine_url, stop, rebuilds, errors))
        rebuilder.start()
        pool = [threading.Thread(target=_submitter, args=(base, n, answers, errors))
                for n in range(SUBMITTERS)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        stop.set()
        rebuilder.join()
        assert not errors, errors
        assert rebuilds, "the rebuild loop never completed a rebuild"
        assert answers and all(code < 500 for code in answers), sorted(set(answers))

        engine = make_engine(engine_url)
        try:
            # Read-only: on SQLite a plain session takes the write lock at BEGIN and holds it while waiting.
            with Session(engine.execution_options(read_only=True)) as session:
                smtp = session.execute(select(func.count()).select_from(Message)
                                       .where(Message.channel == "smtp")).scalar_one()
                deadline = time.monotonic() + 120
                while len(sink.messages) < smtp and time.monotonic() < deadline:
                    time.sleep(0.5)
                deadline = time.monotonic() + 30  # the last outcomes commit just after the letters arrive
                while time.monotonic() < deadline and session.execute(
                        select(func.count()).select_from(Message)
                        .where(Message.status.in_(("queued", "sending")))).scalar_one():
                    session.rollback()
                    time.sleep(0.5)
                session.rollback()
                assert smtp >= SUBMITTERS * PER_SUBMITTER  # two senators' letters per written action
                assert_every_slot_exact(session)
                totals = counts.campaign_totals(session, SLUG)
                by_status = dict(session.execute(select(Message.status, func.count())
                                                 .group_by(Message.status)).all())
                assert {s: totals[s] for s in STATUSES} == {s: by_status.get(s, 0) for s in STATUSES}
                assert totals["delivered"] == smtp and totals["handed_off"] > 0
                actions = session.execute(select(func.count()).select_from(Action)).scalar_one()
                assert totals["actions"] == actions
                assert totals["constituents"] == session.execute(
                    select(func.count(func.distinct(Message.constituent_key)))).scalar_one()
        finally:
            engine.dispose()
    text = log.read_text()
    at = text.find("Traceback")
    assert at < 0, text[max(0, at - 1500):at + 6000]
