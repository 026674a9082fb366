"""The outbox's fault defences, one at a time: fencing tokens, the late acceptance, lease renewal, the
database's clock, the per-delivery deadline, the circuit breaker and the settings the worker refuses.
(tests/delivery/test_outbox_faults.py replays the whole experiments with worker processes.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from actiontool.db import session_factory
from actiontool.delivery.cwc import build_document, post_document
from actiontool.delivery.errors import DeliverySettingsError, PermanentFailure, TransientFailure
from actiontool.delivery.settings import from_config
from actiontool.delivery.smtp import build_email, send_email
from actiontool.delivery.worker import CircuitBreaker, Worker, renew_leases
from actiontool.models import DELIVERED, FAILED, QUEUED, SENDING, CampaignCount, utcnow
from actiontool.services import organizers
from actiontool.services.clock import database_now
from tests.delivery.conftest import SmtpSink, add_messages, free_port, message, serving
from tests.delivery.cwc_standin import CwcStandIn
from tests.delivery.test_cwc import SETTINGS, job
from tests.delivery.test_worker import claim, record


def totals(app: Flask) -> dict[str, int]:
    with session_factory(app)() as session:
        row = session.execute(select(CampaignCount)).scalar_one()
        return {s: getattr(row, s) for s in ("queued", "sending", "delivered", "failed") if getattr(row, s)}


def test_an_acceptance_after_a_give_up_turns_failed_into_delivered_and_moves_the_counts(app: Flask) -> None:
    [mid] = add_messages(app)
    now = utcnow()
    attempts = app.config["DELIVERY_MAX_ATTEMPTS"]
    claims = []
    for i in range(attempts):  # every attempt's lease runs out (a worker that is too slow each time)
        claims += claim(app, now=now + timedelta(seconds=i * (app.config["DELIVERY_LEASE_SECONDS"] + 1)))
    assert claim(app, now=now + timedelta(hours=1)) == []  # the last lease ran out: given up
    assert (message(app, mid).status, totals(app)) == (FAILED, {"failed": 1})

    assert record(app, claims[0], None) == DELIVERED  # the first attempt's acceptance arrives after all

    stored = message(app, mid)
    assert (stored.status, stored.last_error, stored.lease_until) == (DELIVERED, None, None)
    assert totals(app) == {"delivered": 1}
    with session_factory(app)() as session, pytest.raises(organizers.NotRetryable):
        organizers.retry_message(session, "test-delivery", mid, actor="test")


def test_a_failure_is_recorded_only_under_the_claim_that_made_it(app: Flask) -> None:
    [mid] = add_messages(app)
    now = utcnow()
    [old] = claim(app, now=now)
    [new] = claim(app, now=now + timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"] + 1))
    assert (old.token, new.token) == (1, 2)

    assert record(app, old, TransientFailure("late timeout")) == SENDING  # the old claim's news: ignored
    assert record(app, new, TransientFailure("timeout")) == QUEUED


def test_retry_resets_attempts_but_not_the_fencing_token(app: Flask) -> None:
    [mid] = add_messages(app)
    [first] = claim(app)
    assert record(app, first, PermanentFailure("refused")) == FAILED
    with session_factory(app)() as session:
        organizers.retry_message(session, "test-delivery", mid, actor="test")
    [again] = claim(app)
    assert (again.attempt, again.token) == (1, 2)
    assert record(app, first, TransientFailure("stale")) == SENDING  # attempt 1 of old is not attempt 1 now


def test_renewal_extends_only_the_leases_still_held_under_the_same_claim(app: Flask) -> None:
    mine, taken = add_messages(app, 2)
    now = utcnow()
    claims = {c.message_id: c for c in claim(app, now=now)}
    lease = app.config["DELIVERY_LEASE_SECONDS"]
    [retaken] = claim(app, now=now + timedelta(seconds=lease + 1), limit=1)  # `mine` is older: it goes first
    assert retaken.message_id == mine
    later = now + timedelta(seconds=lease * 3)
    with session_factory(app)() as session:
        renewed = renew_leases(session, {m: c.token for m, c in claims.items()}, lease, now=later)
    assert renewed == 1  # `taken`'s claim still holds; `mine` has a newer claim
    assert message(app, taken).lease_until == later + timedelta(seconds=lease)
    assert message(app, mine).lease_until == now + timedelta(seconds=2 * lease + 1)


def test_leases_are_measured_by_the_databases_clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    [mid] = add_messages(app)
    with session_factory(app)() as session:
        before = database_now(session)
    assert abs((before - utcnow()).total_seconds()) < 60  # the same UTC instant, give or take the machine
    # A worker whose own clock runs an hour ahead still sees the lease its neighbour just took as live.
    import actiontool.delivery.worker
    import actiontool.models
    import actiontool.services.outbox

    for module in (actiontool.models, actiontool.delivery.worker, actiontool.services.outbox):
        monkeypatch.setattr(module, "utcnow", lambda: before + timedelta(hours=1))
    [first] = claim(app)
    assert claim(app) == []
    stored = message(app, mid)
    lease = timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"])
    assert before < stored.lease_until <= before + lease + timedelta(seconds=60)
    assert first.token == 1


class _SlowSink(SmtpSink):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        await asyncio.sleep(0.4)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.4)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_sink() -> Iterator[_SlowSink]:
    with serving(_SlowSink("127.0.0.1", free_port())) as sink:
        yield sink


def test_the_smtp_deadline_covers_the_whole_session_not_each_command(slow_sink: _SlowSink) -> None:
    settings = from_config({"SMTP_HOST": slow_sink.host, "SMTP_PORT": slow_sink.port, "SMTP_TLS": "none",
                            "MAIL_FROM": "letters@act.example.org", "SMTP_TIMEOUT": 0.6}).smtp
    email = build_email(mail_from="letters@act.example.org", to=["office@house.example.gov"], subject="s",
                        body="b\n", message_id="a" * 32)
    started = time.monotonic()
    with pytest.raises(TransientFailure, match="did not finish within 0.6 s"):
        send_email(email, settings)  # each command answers in 0.4 s, under the 0.6 s; the session cannot
    assert time.monotonic() - started < 5  # a bound, not a measurement: the per-command timeouts would pass
    assert slow_sink.messages == []


def test_the_cwc_deadline_cuts_a_trickling_answer(cwc_server: CwcStandIn) -> None:
    cwc_server.mode, cwc_server.trickle_seconds = "trickle", 0.1
    document = build_document(job(), SETTINGS, date(2026, 11, 27))  # a valid one: the stand-in accepts it

    with pytest.raises(TransientFailure, match="did not answer within 0.5 s"):
        post_document(document, cwc_server.url, cwc_server.api_key, 0.5)
    assert cwc_server.accepted == {}  # the answer never arrived whole


def test_the_breaker_pauses_a_failing_channel_probes_it_and_resumes() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, seconds=10, clock=lambda: now[0])
    down = TransientFailure("timeout")
    assert [breaker.record("cwc", down) for _ in range(2)] == [None, None]  # counted attempts
    assert breaker.record("cwc", down) == 10  # the third trips it: this attempt is not counted
    assert (breaker.admit("cwc"), breaker.admit("smtp")) == (0, None)  # cwc paused, smtp untouched
    now[0] = 10.5
    assert breaker.admit("cwc") == 1  # one probe
    assert breaker.admit("cwc") == 0  # and only one
    assert breaker.record("cwc", down, probe=True) == 20  # failed: twice as long
    now[0] = 31
    assert breaker.admit("cwc") == 1
    assert breaker.record("cwc", PermanentFailure("refused"), probe=True) is None  # it answers: resumed
    assert breaker.admit("cwc") is None
    assert breaker.record("cwc", None) is None


def test_an_attempt_during_an_outage_is_not_counted(app: Flask) -> None:
    [mid] = add_messages(app)
    [first] = claim(app)
    with session_factory(app)() as session:
        from actiontool.delivery.worker import record_outcome

        status = record_outcome(session, first, TransientFailure("timeout"), from_config(app.config).worker,
                                outage_pause=30)
    stored = message(app, mid)
    assert (status, stored.attempts, stored.claims) == (QUEUED, 0, 1)
    assert "channel paused" in (stored.last_error or "")


def test_the_worker_refuses_a_deadline_over_half_the_lease_and_warns_about_short_leases(app: Flask) -> None:
    config = {**app.config, "DELIVERY_LEASE_SECONDS": 10, "CWC_TIMEOUT": 5}
    with pytest.raises(DeliverySettingsError, match="ACTIONTOOL_CWC_TIMEOUT=5 must be under half"):
        Worker(app, settings=from_config(config))
    short = from_config({**app.config, "DELIVERY_LEASE_SECONDS": 5, "CWC_TIMEOUT": 1, "SMTP_TIMEOUT": 1})
    assert short.problems() == []
    assert any("DELIVERY_LEASE_SECONDS=5 is short" in w for w in short.warnings())


def test_a_hanging_channel_leaves_a_thread_for_the_others(app: Flask) -> None:
    worker = Worker(app, concurrency=3)
    assert worker.channel_threads == 2
    assert Worker(app, concurrency=1).channel_threads == 1
    assert worker._take_slot("cwc") and worker._take_slot("cwc")
    assert worker._take_slot("cwc") is None  # the third thread stays free for smtp
    assert worker._take_slot("smtp") == worker.settings.worker.batch


def test_database_timeouts_apply_to_writers_and_spare_read_only_streams(app: Flask) -> None:
    from sqlalchemy import text

    from actiontool import db

    engine = db_engine(app)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            shown = [conn.execute(text(f"SHOW {name}")).scalar_one() for name in
                     ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")]
        assert shown == ["2s", "1min", "10s"]
        with engine.connect().execution_options(read_only=True) as conn:
            assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "0"
    else:
        timeouts = db.Timeouts.from_config(app.config)
        assert db._lock_wait(timeouts) == db._LOCK_WAIT_SECONDS  # a worker or command: the long wait
        with app.test_request_context("/"):
            assert db._lock_wait(timeouts) == 2.0  # a web request: at most the lock timeout


def db_engine(app: Flask) -> Any:
    from actiontool import db

    with app.app_context():
        return db.engine()
