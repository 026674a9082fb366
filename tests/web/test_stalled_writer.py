"""Experiment 8 of the delivery-under-faults issue: a stalled process holding the count rows cannot hold
a submit for more than the lock timeout. The submit answers 503 "try again" and writes nothing; once the
stall ends (PostgreSQL ends the stalled transaction itself, after idle_in_transaction_session_timeout) the
same letter goes through and the counts are exact.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from actiontool.db import session_factory
from actiontool.models import Action, Message
from tests.delivery.test_outbox_faults import recount_problems
from tests.web.flow_helpers import SLUG, send

pytestmark = pytest.mark.slow

# A writer that stops in the middle of a transaction holding the campaign's count rows, as a worker
# frozen by SIGSTOP (or swapped out) between its roll-up update and its commit. On PostgreSQL the roll-ups
# are in 64 slots, so one stalled worker holds the rows of its slot only and most submits pass it by; the
# stall here holds the whole table as a stalled `stats --rebuild` or `--compact` would (they lock it), so
# every submit meets it.
STALLER = """
import os, signal, sys
from sqlalchemy import text
from actiontool.db import Timeouts, make_engine
engine = make_engine(sys.argv[1], timeouts=Timeouts(idle_in_transaction=float(sys.argv[3])))
with engine.connect() as conn:
    conn.begin()
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE campaign_counts IN EXCLUSIVE MODE"))
    conn.execute(text("UPDATE campaign_counts SET updated_at = updated_at WHERE campaign = :c"),
                 {"c": sys.argv[2]})
    print("holding", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
    conn.commit()
"""
IDLE_SECONDS = 4.0  # the stalled transaction's idle_in_transaction_session_timeout (PostgreSQL)


def count(app: Flask, model: type[Action] | type[Message]) -> int:
    """Return how many rows of `model` exist, read without waiting for SQLite's write lock."""
    with session_factory(app)() as session:
        session.connection(execution_options={"read_only": True})
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def staller(app: Flask) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", STALLER, app.config["DATABASE_URL"], SLUG,
                             str(IDLE_SECONDS)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait(10)


def test_a_stalled_writer_holds_a_submit_at_most_the_lock_timeout_and_the_submit_writes_nothing(
        app: Flask, request: pytest.FixtureRequest) -> None:
    client = app.test_client()
    assert send(client).status_code < 400  # the first letter: the campaign's count rows exist now
    messages_before = count(app, Message)

    proc: subprocess.Popen[str] = request.getfixturevalue("staller")
    started = time.monotonic()
    refused = send(client, query="&lang=es", email="otra@example.org")
    waited = time.monotonic() - started
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "2"
    assert "Nada se guardó" in refused.get_data(as_text=True)
    assert (count(app, Action), count(app, Message)) == (1, messages_before)  # nothing written

    if app.config["DATABASE_URL"].startswith("sqlite"):
        proc.kill()  # SQLite cannot end another process's transaction: the stall ends with the process
    deadline = time.monotonic() + 30
    while (answer := send(client, query="&lang=es", email="otra@example.org")).status_code == 503:
        assert time.monotonic() < deadline, "the stalled transaction was never ended"
        time.sleep(0.5)
    assert answer.status_code < 400
    assert count(app, Action) == 2
    assert recount_problems(app) == []
    limit = app.config.get("DB_LOCK_TIMEOUT_SECONDS", 2.0)
    print(f"\nFIGURES experiment 8 on {app.config['DATABASE_URL'].split(':')[0]}: "
          f"submit refused after {waited:.1f} s (lock timeout {limit} s)")
