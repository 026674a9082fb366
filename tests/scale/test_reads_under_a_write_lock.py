"""Reads never wait for SQLite's write lock (hardening finding 13: with another writer holding BEGIN
IMMEDIATE, /c/<slug> and /r/<token> waited 30 s and answered 500)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool import db
from tests.web.flow_helpers import SLUG, send

# Generous for a shared test machine: a waiting read would take the whole lock wait (patched to 2 s).
FAST_SECONDS = 0.5


@pytest.fixture
def write_lock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[sqlite3.Connection]:
    """Hold SQLite's write lock from another connection, as a busy writer would."""
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    monkeypatch.setattr(db, "_LOCK_WAIT_SECONDS", 2.0)  # a read that wrongly waits fails fast
    holder = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE organizers SET email = email")  # a real write in flight
    yield holder
    holder.execute("ROLLBACK")
    holder.close()


def _timed(client: FlaskClient, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = client.get(path)
    return response.status_code, time.perf_counter() - started


def test_public_reads_answer_while_another_writer_holds_the_lock(app: Flask, signed_in: FlaskClient,
                                                                 request: Any) -> None:
    sent = send(signed_in)
    receipt = sent.headers["Location"]
    paths = [f"/c/{SLUG}", receipt, f"/api/v1/campaigns/{SLUG}/count", "/organizer/",
             f"/organizer/c/{SLUG}"]
    for path in paths:  # warm caches (templates, dataset) outside the measurement
        assert signed_in.get(path).status_code == 200, path
    request.getfixturevalue("write_lock")
    timings = {path: _timed(signed_in, path) for path in paths}
    assert all(status == 200 for status, _ in timings.values()), timings
    assert all(seconds < FAST_SECONDS for _, seconds in timings.values()), timings


def test_a_write_still_waits_for_the_lock(app: Flask, client: FlaskClient, request: Any) -> None:
    request.getfixturevalue("write_lock")
    started = time.perf_counter()
    answer = send(client)  # a submit needs the lock: it waits the lock timeout, then answers "try again"
    assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "2")
    assert time.perf_counter() - started >= 2.0
