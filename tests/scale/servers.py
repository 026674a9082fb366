"""Run the app as an operator would: gunicorn web processes and `actiontool worker` processes.

Shared by the deployment smoke test and the load test (bench/load.py). Every process is started with
its own environment (the ACTIONTOOL_* settings), waited for with a bounded loop, and stopped by pid.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a TCP port that is free on loopback right now.

    ACTIONTOOL_BENCH_PORTS=FIRST-LAST keeps the choice inside that range (on a shared machine where each
    user of it is given a range); otherwise the system picks one.
    """
    first, _, last = os.environ.get("ACTIONTOOL_BENCH_PORTS", "").partition("-")
    candidates = range(int(first), int(last) + 1) if first and last else [0]
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # taken: try the next one in the range
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in {first}-{last}")


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """Yield a URL whose search_path is a fresh schema of its own; drop the schema afterwards."""
    schema = "s_" + uuid.uuid4().hex[:12]
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def environment(settings: Mapping[str, object]) -> dict[str, str]:
    """Return this process's environment plus ACTIONTOOL_<NAME> for each setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIONTOOL_")}
    env.update({f"ACTIONTOOL_{name}": str(value) for name, value in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextmanager
def gunicorn(settings: Mapping[str, object], *, workers: int = 2, log: Path,
             extra_args: tuple[str, ...] = (), app: str = "actiontool:create_app()") -> Iterator[str]:
    """Run gunicorn with `workers` processes on a loopback port; yield its base URL."""
    port = free_port()
    args = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
            "--graceful-timeout", "5", "--timeout", "60", *extra_args, app]
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, env=environment(settings), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc, log)
        yield base
    finally:
        stop(proc)


def wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    """Wait (bounded) until the server answers, or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(base + "/api/v1/openapi.json", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still starting its workers
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s:\n{log.read_text()[-4000:]}")


@contextmanager
def workers(settings: Mapping[str, object], count: int, *, log: Path, args: tuple[str, ...] = (),
            nice: int = 0) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run `count` separate `actiontool worker` processes (at a lower CPU priority when `nice` > 0)."""
    procs = []
    try:
        with open(log, "ab") as out:
            for _ in range(count):
                procs.append(subprocess.Popen(
                    [str(BIN / "actiontool"), "worker", *args], env=environment(settings), stdout=out,
                    stderr=subprocess.STDOUT, preexec_fn=(lambda: os.nice(nice)) if nice else None))
        yield procs
    finally:
        for proc in procs:
            stop(proc)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop one process we started: SIGTERM, then SIGKILL if it does not finish in time."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
