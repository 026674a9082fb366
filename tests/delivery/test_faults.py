"""Faults with real processes: a worker killed with SIGKILL mid-delivery, and two workers on one outbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from actiontool.models import DELIVERED, FINAL_STATUSES, Message
from tests.delivery.conftest import add_messages
from tests.delivery.cwc_standin import CwcStandIn

ACTIONTOOL = str(Path(sys.executable).parent / "actiontool")
pytestmark = pytest.mark.slow


def worker_env(app_config: dict[str, Any], **overrides: Any) -> dict[str, str]:
    """Return an environment that configures the `actiontool` command like the test app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIONTOOL_")}
    settings = {k: v for k, v in app_config.items() if k.isupper() and k not in ("TESTING",)}
    settings.update(overrides)
    for name, value in settings.items():
        if value is not None and not isinstance(value, bool):
            env[f"ACTIONTOOL_{name}"] = str(value)
    return env


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `actiontool worker` processes; kill any still running at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"worker{len(started)}.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen([ACTIONTOOL, "worker", *args], env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def statuses(app: Flask) -> dict[str, tuple[str, int]]:
    """Return {message id: (status, attempts)}."""
    from actiontool.db import session_factory

    with session_factory(app)() as session:
        return {m.id: (m.status, m.attempts) for m in session.execute(select(Message)).scalars()}


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll `predicate` until it holds; fail naming `what` after `timeout` seconds (a bound, not a timing)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killed_worker_loses_nothing_and_the_resend_keeps_its_delivery_id(
        app: Flask, app_config: dict[str, Any], cwc_server: CwcStandIn,
        processes: Callable[..., subprocess.Popen[bytes]], tmp_path: Path) -> None:
    ids = add_messages(app, 5)
    cwc_server.hang_first = True
    # A short lease, so the restarted worker picks the orphaned message up quickly; a long CWC timeout,
    # so the first worker is still inside the request when it is killed.
    env = worker_env(app_config, DELIVERY_LEASE_SECONDS=3, CWC_TIMEOUT=1.4, SMTP_TIMEOUT=1.0,
                     DELIVERY_BATCH=1)

    first = processes(env)
    assert cwc_server.first_request.wait(60), (tmp_path / "worker0.log").read_text()
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    [hung] = [i for i in cwc_server.ids()]
    assert statuses(app)[hung] == ("sending", 1)  # orphaned mid-delivery

    second = processes(worker_env(app_config, DELIVERY_LEASE_SECONDS=3, CWC_TIMEOUT=1.0,
                                             SMTP_TIMEOUT=1.0))
    wait_for(lambda: all(s in FINAL_STATUSES for s, _ in statuses(app).values()), "every message to be final")
    second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0  # graceful shutdown

    final = statuses(app)
    assert {i: s for i, (s, _) in final.items()} == {i: DELIVERED for i in ids}
    assert final[hung][1] == 2
    assert cwc_server.ids().count(hung) == 2  # sent again after the lease ran out, same DeliveryId
    assert cwc_server.accepted == {i: 1 for i in ids}  # and every message accepted exactly once


def test_two_worker_processes_never_deliver_a_message_twice(
        app: Flask, app_config: dict[str, Any], cwc_server: CwcStandIn,
        processes: Callable[..., subprocess.Popen[bytes]]) -> None:
    ids = add_messages(app, 40)
    env = worker_env(app_config, DELIVERY_BATCH=2)

    workers = [processes(env, "--once", "--concurrency", "2") for _ in range(2)]
    for proc in workers:
        assert proc.wait(120) == 0

    assert {i: s for i, (s, _) in statuses(app).items()} == {i: DELIVERED for i in ids}
    assert sorted(cwc_server.ids()) == sorted(ids)  # each DeliveryId posted once
    assert cwc_server.accepted == {i: 1 for i in ids}


def test_serve_delivers_in_a_thread_of_its_own_process(
        app: Flask, app_config: dict[str, Any], cwc_server: CwcStandIn, tmp_path: Path) -> None:
    from tests.delivery.conftest import free_port

    [mid] = add_messages(app)
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([ACTIONTOOL, "serve", "--port", str(free_port())], env=worker_env(app_config),
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: statuses(app)[mid][0] == DELIVERED, "serve's delivery thread to deliver")
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    assert cwc_server.accepted == {mid: 1}
    assert "delivery thread:" in (tmp_path / "serve.log").read_text()
