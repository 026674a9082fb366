"""Delivery benchmark: messages per second through the outbox worker to a local SMTP server and a CWC
stand-in, with 1 and 4 worker threads, against the same channel called directly (no outbox) as baseline.

Bounded: a fixed number of messages per run, on a fresh SQLite file; both servers run on loopback in this
process, so the figures show the outbox's own cost (claim, lease, record) next to a bare send.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from actiontool import create_app
from actiontool.delivery.cwc import build_document, post_document
from actiontool.delivery.settings import from_config
from actiontool.delivery.smtp import letter_email, send_email
from actiontool.delivery.worker import AppCampaigns, Worker, claim_messages
from bench._report import machine
from tests.delivery.conftest import SENATOR, SmtpSink, add_messages, delivery_config, free_port
from tests.delivery.cwc_standin import CwcStandIn

MESSAGES = 300
REPEATS = 3


def _app(workdir: Path, smtp: SmtpSink, cwc: CwcStandIn) -> Any:
    config = delivery_config(workdir, smtp, cwc)
    config.update(DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}", SECRET_KEY="bench", TESTING=True,
                  DELIVERY_BATCH=5)
    app = create_app(config)
    app.instance_path = str(workdir / "instance")
    return app


def _through_worker(make_app: Callable[[], Any], channel: str, concurrency: int) -> float:
    """Return messages/second for MESSAGES letters drained by one worker with `concurrency` threads."""
    app = make_app()
    members = (SENATOR,) if channel == "smtp" else None
    kwargs: dict[str, Any] = {"members": members} if members else {}
    add_messages(app, MESSAGES, **kwargs)
    worker = Worker(app, concurrency=concurrency)
    start = time.perf_counter()
    worker.run(once=True)
    elapsed = time.perf_counter() - start
    assert worker.counts.get("delivered") == MESSAGES, worker.counts
    _dispose(app)
    return MESSAGES / elapsed


def _without_rollups(make_app: Callable[[], Any], channel: str) -> float:
    """Return `_through_worker(..., 1)` with the organizers' roll-up count hook stubbed out (diagnostic)."""
    from actiontool.services import counts

    original = counts.record_status_change
    counts.record_status_change = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        return _through_worker(make_app, channel, 1)
    finally:
        counts.record_status_change = original  # type: ignore[assignment]


def _direct(make_app: Callable[[], Any], channel: str) -> float:
    """Return messages/second for the same letters sent by calling the channel directly, one thread."""
    from actiontool.db import session_factory

    app = make_app()
    kwargs: dict[str, Any] = {"members": (SENATOR,)} if channel == "smtp" else {}
    add_messages(app, MESSAGES, **kwargs)
    settings = from_config(app.config)
    with session_factory(app)() as session:  # jobs built once, outside the timing
        claims = claim_messages(session, AppCampaigns(app), settings.worker, limit=MESSAGES)
    jobs = [c.job for c in claims if c.job is not None]
    start = time.perf_counter()
    for job in jobs:
        if channel == "smtp":
            to = job.campaign.options(job.chamber).recipients(job.bioguide)
            send_email(letter_email(job, to, str(settings.smtp.mail_from)), settings.smtp)
        else:
            document = build_document(job, settings.cwc, job_date())
            post_document(document, str(settings.cwc.base_url), str(settings.cwc.api_key),
                          settings.cwc.timeout)
    elapsed = time.perf_counter() - start
    _dispose(app)
    return len(jobs) / elapsed


def job_date() -> Any:
    from actiontool.models import utcnow

    return utcnow().date()


def _dispose(app: Any) -> None:
    from actiontool import db

    with app.app_context():
        db.engine().dispose()


def run() -> str:
    """Run the benchmark and return its markdown section."""
    sink = SmtpSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    cwc = CwcStandIn().start()
    results: dict[tuple[str, str], float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            counter = iter(range(1000))

            def make_app() -> Any:
                workdir = Path(tmp) / f"run{next(counter)}"
                workdir.mkdir()
                return _app(workdir, sink, cwc)

            for channel in ("smtp", "cwc"):
                for label, fn in (("direct", lambda c=channel: _direct(make_app, c)),
                                  ("1 thread", lambda c=channel: _through_worker(make_app, c, 1)),
                                  ("4 threads", lambda c=channel: _through_worker(make_app, c, 4)),
                                  ("1 thread, no roll-ups", lambda c=channel: _without_rollups(make_app, c))):
                    results[(channel, label)] = statistics.median(fn() for _ in range(REPEATS))
    finally:
        cwc.stop()
        controller.stop()
    duplicates = [i for i, n in cwc.accepted.items() if n > 1]
    rows = []
    for channel, server in (("smtp", "aiosmtpd"), ("cwc", "CWC stand-in, http.server")):
        base = results[(channel, "direct")]
        rows.append(f"| {channel} ({server}) | direct call, no outbox | {base:.0f} | 1.00x |")
        for label in ("1 thread", "4 threads", "1 thread, no roll-ups"):
            rate = results[(channel, label)]
            rows.append(f"| {channel} | worker, {label} | {rate:.0f} | {rate / base:.2f}x |")
    table = "\n".join(rows)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"""## Delivery (`python -m bench delivery`)

{MESSAGES} messages per run on a fresh SQLite file, median of {REPEATS} runs, {machine()},
{os.cpu_count()} CPUs, load average {load} at the end (the figures move with the machine's load).
Both servers run on loopback in the benchmark's process; the baseline is the same channel called
directly in one thread (no claim, lease or outcome recorded), measured in the same run.

| channel | how | messages/s | vs direct |
|---|---|---|---|
{table}

Notes:
- A worker claims a batch (here 5) in one short write transaction, delivers outside it, and records the
  batch's outcomes together in one more (issue 16: on SQLite each write transaction takes the one write
  lock submits wait for), each message still checked against its own fencing token. No outcome waits
  more than half a second (worker.RECORD_WITHIN_SECONDS) after its send, so on a slow channel each is
  recorded about when it went: a worker that dies leaves at most that much accepted but unrecorded,
  sent again after the lease with the same id, as a letter in flight at the crash would be. Before:
  one transaction per message, which kept that window to one message.
- Threads help when the endpoint is slow (network latency); on loopback with a fast in-process server
  the single SQLite writer and Python's GIL bound the gain. Several worker processes on PostgreSQL claim
  with `FOR UPDATE SKIP LOCKED` and do not wait on each other.
- "no roll-ups" is a diagnostic, not a mode: the same single-thread run with the organizers' exact
  roll-up counts (`services.counts.record_status_change`, called by `set_status` at claim and at outcome)
  stubbed out. The gap between it and "1 thread" is the price of exact live counts on SQLite.
- Duplicate DeliveryIds accepted by the stand-in over all runs: {len(duplicates)}.
"""
