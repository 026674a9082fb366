"""The fault experiments of the delivery-under-faults issue, replayed with stand-ins and worker processes.

Each test sets up one fault (a give-up racing an acceptance, a trickling answer, slow SMTP commands,
skewed worker clocks, a hanging channel), lets `actiontool worker` processes deliver, and ends with the
same checks: no letter lost, no letter a server accepted recorded failed, every repeated send carries the
letter's own id (and none overlaps another send of the same letter), and counts equal to a brute-force
recount. Experiment 2 (`stats --rebuild` during submits) belongs with the roll-up tests; experiment 8 (a
stalled writer) is in tests/web/test_stalled_writer.py because it needs the submit form.

Leases and timeouts are a few seconds so that each test takes seconds. Each prints a FIGURES line (run
with -s to see it); docs/RELIABILITY.md quotes them.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from actiontool.db import session_factory
from actiontool.delivery.settings import from_config
from actiontool.delivery.worker import AppCampaigns, claim_messages
from actiontool.models import DELIVERED, FAILED, STATUSES, CampaignCount, Message
from actiontool.services import counts, organizers
from actiontool.services.transaction import transaction
from tests.delivery.conftest import HOUSE, SENATOR, SmtpSink, add_messages, free_port, serving
from tests.delivery.cwc_standin import CwcStandIn
from tests.delivery.test_faults import ACTIONTOOL, wait_for, worker_env

pytestmark = pytest.mark.slow

# Runs `actiontool` with the process's clock (as the app reads it, actiontool.models.utcnow) moved by
# argv[1] seconds: a worker on a machine whose clock is off.
SKEWED = """
import sys
from datetime import timedelta
import actiontool.models as models
real = models.utcnow
skew = timedelta(seconds=float(sys.argv[1]))
def skewed():
    return real() + skew
models.utcnow = skewed
import actiontool.cli, actiontool.delivery.worker, actiontool.delivery.cwc, actiontool.services.outbox
for module in list(sys.modules.values()):
    if getattr(module, "utcnow", None) is real:
        module.utcnow = skewed
sys.argv = ["actiontool", *sys.argv[2:]]
actiontool.cli.main()
"""


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start worker processes (`skew` seconds off the true time); stop any still running at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], *args: str, skew: float | None = None) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"worker{len(started)}.log", "wb")  # noqa: SIM115 (closed with the process)
        command = [ACTIONTOOL, "worker", *args] if skew is None else \
            [sys.executable, "-c", SKEWED, str(skew), "worker", *args]
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
        proc.wait(10)


def logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("worker*.log")))


def stop(*procs: subprocess.Popen[bytes]) -> None:
    """Stop workers gracefully (SIGTERM finishes the delivery in flight) and check they exit cleanly."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        assert proc.wait(30) == 0


def messages(app: Flask) -> dict[str, Message]:
    """Return every message, read without waiting for SQLite's write lock (which a test may hold)."""
    with session_factory(app)() as session:
        session.connection(execution_options={"read_only": True})
        return {m.id: m for m in session.execute(select(Message)).scalars()}


def recount_problems(app: Flask) -> list[str]:
    """Return where the roll-ups differ from a recount of the messages (empty when they are exact)."""
    problems = []
    with session_factory(app)() as session:
        for rollup in counts.ROLLUPS:
            table = rollup.table
            kept: dict[tuple[Any, ...], Counter[str]] = {}  # summed over the roll-up's slots
            columns = (*(table.c[k] for k in rollup.key), *(table.c[s] for s in STATUSES))
            for row in session.execute(select(*columns)):
                kept.setdefault(tuple(row[:len(rollup.key)]), Counter()).update(
                    dict(zip(STATUSES, row[len(rollup.key):], strict=True)))
            brute: dict[tuple[Any, ...], Counter[str]] = {}
            for m in session.execute(select(Message)).scalars():
                key = tuple(counts._message_value(m, c, rollup) for c in rollup.key)
                brute.setdefault(key, Counter())[m.status] += 1
            for key in set(kept) | set(brute):
                have = {s: n for s, n in kept.get(key, {}).items() if n}
                if have != {s: n for s, n in brute.get(key, Counter()).items() if n}:
                    problems.append(f"{table.name} {key}: {have} != {dict(brute.get(key, {}))}")
        by_status = dict(session.execute(select(Message.status, func.count()).group_by(Message.status)).all())
        totals: dict[str, Counter[str]] = {}  # campaign_counts summed over its slots
        for row in session.execute(select(CampaignCount)).scalars():
            totals.setdefault(row.campaign, Counter()).update({s: getattr(row, s) for s in STATUSES})
        for campaign, total in totals.items():
            have = {s: n for s, n in total.items() if n}
            if have != by_status:
                problems.append(f"campaign_counts {campaign}: {have} != {by_status}")
    return problems


def check_outcome(app: Flask, ids: list[str], accepted: Counter[str], sent: list[str],
                  what: str) -> dict[str, int]:
    """Assert the four promises; return the figures (letters, sends, repeated sends)."""
    stored = messages(app)
    lost = [i for i in ids if i not in stored or stored[i].status != DELIVERED]
    accepted_but_failed = [i for i in accepted if stored.get(i) is not None and stored[i].status == FAILED]
    foreign = [i for i in sent if i not in stored]  # a send under an id that is no letter's
    assert lost == [], {i: (stored[i].status, stored[i].last_error) for i in lost if i in stored}
    assert accepted_but_failed == []
    assert foreign == []
    assert recount_problems(app) == []
    figures = {"letters": len(ids), "sends": len(sent), "repeats": len(sent) - len(set(sent)),
               "accepted_twice": sum(1 for n in accepted.values() if n > 1)}
    print(f"\nFIGURES {what}: {figures}")
    return figures


def test_experiment1_an_acceptance_after_a_give_up_turns_failed_into_delivered(
        app: Flask, app_config: dict[str, Any], cwc_server: CwcStandIn,
        workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path) -> None:
    """Max attempts 3; CWC answers 500 twice, then accepts; while the acceptance is on its way back a second
    worker takes the lease for lost and gives the letter up. The acceptance still wins."""
    [mid] = add_messages(app)
    lease = 2
    cwc_server.script = ["500", "500", "slow"]
    cwc_server.slow_seconds = 0.0
    holding = threading.Event()
    settings = from_config({**app_config, "DELIVERY_LEASE_SECONDS": lease}).worker

    def other_worker() -> None:
        # Hold the letter's row as a second worker's claim does, so the first worker cannot record its
        # acceptance (nor renew its lease) until the lease has run out and this worker has given up.
        with session_factory(app)() as session, transaction(session):
            session.execute(select(Message).where(Message.id == mid).with_for_update()).scalar_one()
            holding.set()
            time.sleep(lease + 1.0)
            claimed = claim_messages(session, AppCampaigns(app), settings)
            assert claimed == []  # it gave up (attempt 3 of 3) instead of claiming

    helper = threading.Thread(target=other_worker)
    cwc_server.before_accept = lambda _id: (helper.start(), holding.wait(10))  # type: ignore[func-returns-value]
    env = worker_env(app_config, DELIVERY_LEASE_SECONDS=lease, CWC_TIMEOUT=0.9, SMTP_TIMEOUT=0.9,
                     DB_LOCK_TIMEOUT_SECONDS=0)  # the first worker waits for the row as long as it takes
    first = workers(env)
    wait_for(lambda: messages(app)[mid].status == DELIVERED, "the late acceptance to be recorded", 20)
    helper.join(10)
    stop(first)

    stored = messages(app)[mid]
    assert (stored.status, stored.attempts, stored.last_error) == (DELIVERED, 3, None)
    assert "after it was recorded failed" in logs(tmp_path)
    with session_factory(app)() as session, pytest.raises(organizers.NotRetryable):
        organizers.retry_message(session, "test-delivery", mid, actor="test")
    check_outcome(app, [mid], cwc_server.accepted, [str(i) for i in cwc_server.ids()],
                  f"experiment 1 (late acceptance) on {app.config['DATABASE_URL'].split(':')[0]}")


def test_experiment3_a_trickling_cwc_answer_is_cut_at_the_deadline_and_never_sent_twice_at_once(
        app: Flask, app_config: dict[str, Any], cwc_server: CwcStandIn,
        workers: Callable[..., subprocess.Popen[bytes]]) -> None:
    """Each letter's first POST is answered a byte every 0.25 s (about 40 s in all, every read well inside
    the 1 s timeout); the lease is 3 s. The deadline cuts each POST at 1 s, so no lease runs out."""
    ids = add_messages(app, 4)
    cwc_server.script = ["trickle"] * 4
    cwc_server.trickle_seconds = 0.25
    env = worker_env(app_config, DELIVERY_LEASE_SECONDS=3, CWC_TIMEOUT=1.0, SMTP_TIMEOUT=1.0,
                     DELIVERY_BACKOFF_SECONDS=2.0, DELIVERY_BATCH=1)
    procs = [workers(env), workers(env)]
    wait_for(lambda: all(m.status == DELIVERED for m in messages(app).values()), "every letter delivered", 90)
    stop(*procs)

    assert sum(cwc_server.overlaps.values()) == 0  # never posted while another POST of it was in flight
    assert cwc_server.accepted == {i: 1 for i in ids}
    check_outcome(app, ids, cwc_server.accepted, [str(i) for i in cwc_server.ids()],
                  f"experiment 3 (CWC trickle) on {app.config['DATABASE_URL'].split(':')[0]}")


class SlowSmtp(SmtpSink):
    """An SMTP server whose first `slow` sessions answer MAIL, RCPT and DATA after `delay` seconds each."""

    slow = 0
    delay = 0.0
    sessions = 0
    overlaps = 0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          mail_options: list[str]) -> str:
        self.sessions += 1
        session.slow = self.slow > 0
        self.slow -= 1
        if session.slow:
            await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if getattr(session, "slow", False):
            await asyncio.sleep(self.delay)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if getattr(session, "slow", False):
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Iterator[SlowSmtp]:
    with serving(SlowSmtp("127.0.0.1", free_port())) as sink:
        yield sink


def test_experiment3_slow_smtp_commands_are_cut_at_the_session_deadline_and_each_letter_arrives_once(
        app: Flask, app_config: dict[str, Any], slow_smtp: SlowSmtp,
        workers: Callable[..., subprocess.Popen[bytes]]) -> None:
    """The first sessions answer MAIL, RCPT and DATA after 1.2 s each: every command inside the 1.4 s
    timeout, the session (3.6 s) longer than the 3 s lease. The session deadline cuts each at 1.4 s."""
    ids = add_messages(app, 4, members=(SENATOR,))
    slow_smtp.slow, slow_smtp.delay = 4, 1.2
    env = worker_env(app_config, SMTP_HOST=slow_smtp.host, SMTP_PORT=slow_smtp.port,
                     DELIVERY_LEASE_SECONDS=3, CWC_TIMEOUT=1.0, SMTP_TIMEOUT=1.4,
                     DELIVERY_BACKOFF_SECONDS=0.5, DELIVERY_BATCH=1)
    procs = [workers(env), workers(env)]
    wait_for(lambda: all(m.status == DELIVERED for m in messages(app).values()), "every letter delivered", 90)
    stop(*procs)

    received = [str(m["Message-ID"]).strip("<>").split("@")[0] for m in slow_smtp.messages]
    assert sorted(received) == sorted(ids)  # each letter arrived once, under its own Message-ID
    check_outcome(app, ids, Counter(received), received,
                  f"experiment 3 (slow SMTP) on {app.config['DATABASE_URL'].split(':')[0]}")


def test_experiment7_workers_with_skewed_clocks_never_take_each_others_live_leases(
        app: Flask, app_config: dict[str, Any], cwc_server: CwcStandIn,
        workers: Callable[..., subprocess.Popen[bytes]]) -> None:
    """One worker's clock 30 s ahead, the other's 30 s behind, a 2 s lease, CWC answering in 0.3 s."""
    ids = add_messages(app, 10)
    cwc_server.mode, cwc_server.slow_seconds = "slow", 0.3
    env = worker_env(app_config, DELIVERY_LEASE_SECONDS=2, CWC_TIMEOUT=0.9, SMTP_TIMEOUT=0.9,
                     DELIVERY_BATCH=1)
    procs = [workers(env, skew=30.0), workers(env, skew=-30.0)]
    wait_for(lambda: all(m.status == DELIVERED for m in messages(app).values()), "every letter delivered", 90)
    stop(*procs)

    sent = [str(i) for i in cwc_server.ids()]
    assert sorted(sent) == sorted(ids)  # each letter posted once
    assert cwc_server.accepted == {i: 1 for i in ids}
    check_outcome(app, ids, cwc_server.accepted, sent,
                  f"experiment 7 (clocks +30 s / -30 s) on {app.config['DATABASE_URL'].split(':')[0]}")


def test_experiment11_a_hanging_channel_neither_starves_the_other_nor_fails_its_letters(
        app: Flask, app_config: dict[str, Any], cwc_server: CwcStandIn, smtp_server: SmtpSink,
        workers: Callable[..., subprocess.Popen[bytes]]) -> None:
    """CWC hangs; e-mail still flows, and CWC letters wait without spending attempts until CWC is back."""
    ids = add_messages(app, 6, members=(HOUSE, SENATOR))
    cwc_ids = [i for i, m in messages(app).items() if m.channel == "cwc"]
    cwc_server.mode = "hang"
    env = worker_env(app_config, DELIVERY_LEASE_SECONDS=3, CWC_TIMEOUT=1.0, SMTP_TIMEOUT=1.0,
                     DELIVERY_BREAKER_FAILURES=2, DELIVERY_BREAKER_SECONDS=1, DELIVERY_MAX_ATTEMPTS=3,
                     DELIVERY_BATCH=1)
    proc = workers(env, "--concurrency", "2")
    wait_for(lambda: all(m.status == DELIVERED for m in messages(app).values() if m.channel == "smtp"),
             "the e-mail letters to go while CWC hangs", 60)
    time.sleep(3)  # the outage goes on: the paused channel must not spend the CWC letters' attempts
    during = messages(app)
    assert all(during[i].status != FAILED and during[i].attempts < 3 for i in cwc_ids)
    cwc_server.mode = "ok"
    cwc_server.release.set()
    wait_for(lambda: all(m.status == DELIVERED for m in messages(app).values()), "CWC to resume", 60)
    stop(proc)

    assert cwc_server.accepted == {i: 1 for i in cwc_ids}
    sent = [str(i) for i in cwc_server.ids()] + [
        str(m["Message-ID"]).strip("<>").split("@")[0] for m in smtp_server.messages]
    check_outcome(app, ids, cwc_server.accepted, sent,
                  f"experiment 11 (CWC hangs) on {app.config['DATABASE_URL'].split(':')[0]}")


def test_worker_refuses_a_deadline_that_does_not_fit_in_half_the_lease(app_config: dict[str, Any]) -> None:
    from click.testing import CliRunner

    from actiontool import create_app
    from actiontool.cli.worker import worker

    app = create_app({**app_config, "DELIVERY_LEASE_SECONDS": 10, "CWC_TIMEOUT": 5, "SMTP_TIMEOUT": 1})
    with app.app_context():
        result = CliRunner().invoke(worker, ["--once"])
    assert result.exit_code != 0
    assert "ACTIONTOOL_CWC_TIMEOUT=5 must be under half of ACTIONTOOL_DELIVERY_LEASE_SECONDS=10" \
        in result.output
