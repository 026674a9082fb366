"""Claims, leases, outcomes and backoff of the outbox worker (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from actiontool.delivery.backoff import retry_delay
from actiontool.delivery.errors import (
    DeliveryFailure,
    DeliveryOptionsError,
    PermanentFailure,
    TransientFailure,
)
from actiontool.delivery.options import parse_chamber, parse_delivery
from actiontool.delivery.settings import from_config
from actiontool.delivery.worker import (
    AppCampaigns,
    Claim,
    Outcome,
    Worker,
    claim_messages,
    record_outcome,
    record_outcomes,
)
from actiontool.models import DELIVERED, FAILED, QUEUED, SENDING, utcnow
from tests.delivery.conftest import add_messages, message
from tests.delivery.cwc_standin import CwcStandIn


def claim(app: Flask, *, now: datetime | None = None, limit: int | None = None) -> list[Claim]:
    from actiontool.db import session_factory

    settings = from_config(app.config).worker
    with session_factory(app)() as session:
        return claim_messages(session, AppCampaigns(app), settings, now=now, limit=limit)


def record(app: Flask, c: Claim, failure: DeliveryFailure | None = None, now: datetime | None = None) -> str:
    from actiontool.db import session_factory

    with session_factory(app)() as session:
        return record_outcome(session, c, failure, from_config(app.config).worker, now=now)


def test_claim_marks_sending_under_a_lease_and_counts_the_attempt(app: Flask) -> None:
    [mid] = add_messages(app)
    now = utcnow()

    claims = claim(app, now=now)

    assert [(c.message_id, c.attempt) for c in claims] == [(mid, 1)]
    assert claims[0].job is not None
    assert claims[0].job.campaign.topics == ("Crime and Law Enforcement", "Health")
    stored = message(app, mid)
    assert (stored.status, stored.attempts) == (SENDING, 1)
    assert stored.lease_until == now + timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"])
    assert claim(app, now=now + timedelta(seconds=1)) == []  # leased: nobody else gets it


def test_expired_lease_is_claimed_again_with_the_same_id(app: Flask) -> None:
    [mid] = add_messages(app)
    now = utcnow()
    claim(app, now=now)

    later = now + timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"] + 1)
    again = claim(app, now=later)

    assert [(c.message_id, c.attempt) for c in again] == [(mid, 2)]
    assert again[0].job is not None and again[0].job.message_id == mid


def test_stale_worker_cannot_overwrite_the_new_claims_outcome(app: Flask) -> None:
    [mid] = add_messages(app)
    now = utcnow()
    [first] = claim(app, now=now)
    [second] = claim(app, now=now + timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"] + 1))

    assert record(app, first, TransientFailure("late timeout")) == SENDING  # lease lost: ignored
    assert record(app, second, None) == DELIVERED
    assert record(app, first, PermanentFailure("too late")) == DELIVERED  # final stays final


def test_success_is_recorded_even_after_the_lease_was_lost(app: Flask) -> None:
    [mid] = add_messages(app)
    now = utcnow()
    [first] = claim(app, now=now)
    claim(app, now=now + timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"] + 1))

    assert record(app, first, None) == DELIVERED  # it was accepted: nobody may send it again


def test_a_batch_of_outcomes_is_checked_message_by_message(app: Flask) -> None:
    from actiontool.db import session_factory

    lost, kept, accepted = add_messages(app, 3)
    now = utcnow()
    claims = {c.message_id: c for c in claim(app, now=now)}
    # Another worker took `lost` (its lease ran out) and `accepted` before these outcomes were recorded.
    later = now + timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"] + 1)
    app.config["DELIVERY_BACKOFF_SECONDS"] = 600.0
    assert record(app, claims[kept], TransientFailure("busy"), now=now) == QUEUED
    assert {c.message_id for c in claim(app, now=later)} == {lost, accepted}

    with session_factory(app)() as session:
        statuses = record_outcomes(session, [
            Outcome(claims[lost], PermanentFailure("refused")),  # not our claim any more: ignored
            Outcome(claims[accepted], None),  # accepted: wins over the newer claim
            Outcome(claims[kept], PermanentFailure("too late")),  # a final word on a lost claim: ignored
        ], from_config(app.config).worker, now=later)

    assert statuses == [SENDING, DELIVERED, QUEUED]
    assert [message(app, m).status for m in (lost, accepted, kept)] == [SENDING, DELIVERED, QUEUED]


def _count_recorded_batches(monkeypatch: pytest.MonkeyPatch, within_seconds: float) -> list[int]:
    """Note the size of each batch of outcomes the worker records; it records within `within_seconds`."""
    from actiontool.delivery import worker as worker_module

    batches: list[int] = []
    original = worker_module.record_outcomes

    def counted(session: Any, outcomes: Any, *args: Any, **kwargs: Any) -> list[str]:
        batches.append(len(outcomes))
        return original(session, outcomes, *args, **kwargs)

    monkeypatch.setattr(worker_module, "record_outcomes", counted)
    monkeypatch.setattr(worker_module, "RECORD_WITHIN_SECONDS", within_seconds)
    return batches


def test_a_worker_records_a_batch_in_one_write_transaction(app: Flask, cwc_server: CwcStandIn,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ids = add_messages(app, 5)
    app.config["DELIVERY_BATCH"] = 5
    batches = _count_recorded_batches(monkeypatch, 60.0)
    worker = Worker(app)
    worker.run(once=True)

    assert sorted(cwc_server.accepted) == sorted(ids)
    assert worker.counts == {DELIVERED: 5}
    assert [message(app, m).status for m in ids] == [DELIVERED] * 5
    assert batches == [5]  # one transaction for the batch's five outcomes, not one per letter


def test_a_slow_batch_records_each_outcome_soon_after_its_delivery(app: Flask, cwc_server: CwcStandIn,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    add_messages(app, 3)
    app.config["DELIVERY_BATCH"] = 3
    batches = _count_recorded_batches(monkeypatch, 0.0)  # every delivery is "slow"
    Worker(app).run(once=True)

    assert batches == [1, 1, 1]


def test_message_whose_worker_keeps_dying_fails_after_max_attempts(app: Flask) -> None:
    [mid] = add_messages(app)
    now = utcnow()
    step = timedelta(seconds=app.config["DELIVERY_LEASE_SECONDS"] + 1)
    for i in range(app.config["DELIVERY_MAX_ATTEMPTS"]):
        assert len(claim(app, now=now + step * i)) == 1
    assert claim(app, now=now + step * 10) == []

    stored = message(app, mid)
    assert stored.status == FAILED
    assert stored.last_error.startswith("gave up after 3 attempts")


def test_not_yet_due_messages_are_not_claimed(app: Flask) -> None:
    [mid] = add_messages(app)
    [c] = claim(app)
    app.config["DELIVERY_BACKOFF_SECONDS"] = 600.0
    now = utcnow()
    assert record(app, c, TransientFailure("busy"), now=now) == QUEUED

    assert claim(app, now=now + timedelta(seconds=1)) == []
    assert [x.message_id for x in claim(app, now=now + timedelta(seconds=601))] == [mid]


def test_concurrent_claims_never_hand_out_a_message_twice(app: Flask) -> None:
    ids = add_messages(app, 40)
    taken: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            while batch := claim(app, limit=3):
                with lock:
                    taken.extend(c.message_id for c in batch)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(taken) == sorted(ids)  # every message once, none twice


def test_threads_of_one_worker_deliver_every_message_once(app: Flask, cwc_server: CwcStandIn) -> None:
    ids = add_messages(app, 30)

    worker = Worker(app, concurrency=4)
    worker.run(once=True)

    assert sorted(cwc_server.accepted) == sorted(ids)
    assert set(cwc_server.accepted.values()) == {1}
    assert worker.counts == {DELIVERED: 30}


def test_stop_ends_a_running_worker(app: Flask) -> None:
    worker = Worker(app)
    thread = worker.start_background()
    worker.stop()
    thread.join(10)
    assert not thread.is_alive()


def test_unknown_campaign_is_retried_then_fails(app: Flask) -> None:
    [mid] = add_messages(app, campaign="gone-campaign")

    Worker(app).run(once=True)

    stored = message(app, mid)
    assert stored.status == FAILED and "gone-campaign" in stored.last_error


@pytest.mark.parametrize("attempt,low,high", [(1, 5, 10), (2, 10, 20), (3, 20, 40), (10, 50, 100)])
def test_backoff_doubles_with_jitter_and_a_cap(attempt: int, low: float, high: float) -> None:
    rng = random.Random(7)
    delays = [retry_delay(attempt, 10, 100, rng=rng) for _ in range(200)]
    assert low <= min(delays) and max(delays) <= high
    assert len(set(delays)) > 1  # jittered


def test_backoff_honours_a_longer_retry_after() -> None:
    assert retry_delay(1, 1, 100, retry_after=50) == 50


def test_delivery_options_parse_addresses_per_member_and_chamber() -> None:
    options = parse_chamber("senate", {"channel": "smtp", "to": {
        "default": "desk@example.org", "by_bioguide": {"S000148": ["a@example.org", "b@example.org"]}}})
    assert options.recipients("S000148") == ("a@example.org", "b@example.org")
    assert options.recipients("X000001") == ("desk@example.org",)
    assert parse_delivery(None).house.channel == "handoff"


@pytest.mark.parametrize("raw,message", [
    ({"channel": "fax"}, "delivery.senate.channel"),
    ({"channel": "smtp"}, "needs the addresses"),
    ({"channel": "smtp", "to": "not an address"}, "not an e-mail address"),
    ({"channel": "smtp", "to": "a@example.org\r\nBcc: b@example.org"}, "not an e-mail address"),
    ({"channel": "smtp", "to": {"by_bioguide": {"nope": "a@example.org"}}}, "not a bioguide id"),
    ({"channel": "cwc", "to": "a@example.org"}, "only the smtp channel"),
    ({"channel": "smtp", "to": "a@example.org", "cc": "x"}, "unknown key"),
])
def test_delivery_options_errors_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(DeliveryOptionsError, match=message):
        parse_chamber("senate", raw)


def test_campaign_delivery_problems_are_reported_by_name(app: Flask) -> None:
    from actiontool.cli.worker import campaign_problems

    app.config["SMTP_HOST"] = None  # the campaign's senate channel is smtp: now unavailable
    assert campaign_problems(app) == [
        "campaign test-delivery: warning: delivery.senate.channel is smtp, which this server has not "
        "configured: those letters go back to the constituent (hand-off)"]


def test_check_campaign_rejects_bad_smtp_options(tmp_path: Path) -> None:
    from actiontool.campaigns import parse_campaign
    from actiontool.delivery.campaign_info import check_campaign
    from tests.factories import write_campaign

    text = write_campaign(tmp_path).read_text().replace("senate-desk@example.org", "not-an-address")
    errors, _ = check_campaign(parse_campaign(text))
    assert errors == ["delivery.senate.to.default: 'not-an-address' is not an e-mail address"]
