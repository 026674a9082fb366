"""Geocode benchmark: what the street-address step adds to the members step of a split ZIP (target: < 5 ms
of our own CPU time).

Both rows render the same members step (the same district, letters and form) through Flask's test client
on the bundled data: the plain step is the GET of the district chosen from the list; the address step is
the POST of a street address, which sends one request to the Census geocoder's stand-in (a process of its
own, tests/geocoder/census_standin.py), reads its JSON and checks the district against the ZIP's. CPU time
is this process's (time.process_time), so the stand-in's work and the network wait are not counted.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actiontool import create_app
from bench._report import machine
from bench.render import SLUG, _ambiguous_zip

LIMIT_MS = 5.0
REPEATS = 301
WARMUP = 20
STREET = "1 Bench St"


def _medians_ms(fn: Callable[[], Any]) -> tuple[float, float]:
    """Return the median wall time and the median CPU time of this process for `fn()`, in milliseconds."""
    for _ in range(WARMUP):
        fn()
    gc.collect()
    wall, cpu = [], []
    for _ in range(REPEATS):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start_wall) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _standin(label: str) -> tuple[subprocess.Popen[str], str]:
    """Start the stand-in in its own process, answering STREET with `label`: return it and its URL."""
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen([sys.executable, "-m", "tests.geocoder.census_standin", f"{STREET}={label}"],
                               cwd=root, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def run() -> str:
    """Measure and return the markdown section."""
    probe = create_app({"SECRET_KEY": "bench-secret-key-0123456789abcdef", "DATABASE_URL": "sqlite://"})
    zip_code = _ambiguous_zip(probe)
    from actiontool import registry

    label = registry.dataset(probe).lookup(zip_code).districts[-1].label
    process, url = _standin(label)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app({
                "SECRET_KEY": "bench-secret-key-0123456789abcdef",
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                "GEOCODER": "census", "GEOCODER_URL": url, "GEOCODER_TIMEOUT": 3.0,
            })
            app.instance_path = tmp
            client = app.test_client()
            plain_url = f"/c/{SLUG}/members?zip={zip_code}&district={label}"

            def plain() -> None:
                response = client.get(plain_url)
                assert response.status_code == 200 and f'value="{label}"' in response.get_data(as_text=True)

            def by_address() -> None:
                response = client.post(f"/c/{SLUG}/members/address",
                                       data={"zip": zip_code, "address1": STREET})
                body = response.get_data(as_text=True)
                assert response.status_code == 200 and 'value="address"' in body, body[:300]

            results = [("plain members step: district chosen from the list (GET)", *_medians_ms(plain)),
                       ("address step: street address -> stand-in geocoder -> members step (POST)",
                        *_medians_ms(by_address))]
            with app.app_context():
                from actiontool import db

                db.engine().dispose()
    finally:
        process.terminate()
        process.wait(timeout=10)

    (_, base_wall, base_cpu), (_, wall, cpu) = results
    added = cpu - base_cpu
    verdict = "ok" if added < LIMIT_MS else "OVER"
    return "\n".join([
        "## Geocode (`python -m bench geocode`)",
        "",
        f"The members step of a split ZIP ({zip_code}, district {label}) through Flask's test client on the "
        f"bundled data, {machine()}. Medians of {REPEATS} requests after {WARMUP} warm-up requests. CPU is "
        "this process's own (`time.process_time`): the Census geocoder's stand-in runs in a process of its "
        "own, so its work and the wait for it are not counted; the wall time includes them. Target: the "
        f"address step adds under {LIMIT_MS:g} ms of our CPU time over the plain step.",
        "",
        "| step | median CPU | median wall | CPU vs plain step |",
        "|---|---|---|---|",
        f"| {results[0][0]} | {base_cpu:.2f} ms | {base_wall:.2f} ms | 1.0x |",
        f"| {results[1][0]} | {cpu:.2f} ms | {wall:.2f} ms | {cpu / base_cpu:.2f}x |",
        "",
        f"Added by the address step: **{added:.2f} ms** of CPU per request (target < {LIMIT_MS:g} ms): "
        f"{verdict}. It is one HTTP request with `requests` (one session per app; the stand-in speaks "
        "HTTP/1.0, so each request opens a connection, as a first request to the Census Bureau would), "
        "reading the JSON answer, and checking the district against the ZIP's candidates.",
    ])
