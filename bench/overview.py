"""Campaign overview benchmark: the organizers' index (/organizer) at a million messages.

Uses the database the dashboard benchmark seeds (bench/stats.py, ACTIONTOOL_BENCH_MESSAGES messages,
default 1,000,000: a SQLite file, then a PostgreSQL schema of its own when ACTIONTOOL_TEST_DATABASE_URL is
set), seeded once per run when both run (`python -m bench stats overview`), or by this benchmark alone;
the last seeded day is today, so the overview's seven days hold letters. Then times, as medians: the
overview query (services.overview), the whole signed-in page through the test client, warm (target: under
50 ms), with this process's CPU time in it, and the page with its kept days turned off; the baseline of
the same run is the brute-force count of the last seven days over the messages table.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from actiontool import db
from actiontool.models import FAILED, Message
from actiontool.services import overview
from actiontool.timezones import DEFAULT_TIME_ZONE, local_day
from bench._report import machine
from bench._seeded import bench_app
from bench.stats import PASSWORD, SLUG, _median_ms, _ok, on_each_seeded_database

PAGE_LIMIT_MS = 50.0
REPEATS = 21


def measure(url: str) -> dict[str, Any]:
    """Time the overview query and page on a database `bench.stats.seed_database` filled."""
    today = local_day(datetime.now(UTC), DEFAULT_TIME_ZONE)  # the page's today (the site's zone)
    with bench_app(url) as (app, _members):
        result: dict[str, Any] = {}
        with db.session_scope(app) as session:
            week = select(func.count()).select_from(Message).where(
                Message.campaign == SLUG, Message.status != FAILED,
                Message.created_day >= today - timedelta(days=6))
            result["baseline_ms"] = _median_ms(lambda: session.execute(week).scalar_one(), repeats=3)
            result["brute_week"] = session.execute(week).scalar_one()
            line = overview.overview(session, [SLUG], today)[SLUG]
            result["week"] = line.last_days
            result["query_ms"] = _median_ms(lambda: overview.overview(session, [SLUG], today),
                                            repeats=REPEATS)
        client = app.test_client()
        client.post("/organizer/login", data={"email": "bench@example.org", "password": PASSWORD})
        _ok(client.get("/organizer/"))
        result["page_ms"] = _median_ms(lambda: _ok(client.get("/organizer/")), repeats=REPEATS)
        result["page_cpu_ms"] = _median_cpu_ms(lambda: _ok(client.get("/organizer/")), repeats=REPEATS)
        app.config["DASHBOARD_CACHE_ENTRIES"] = 0  # every page counts the seven days afresh
        result["cold_page_ms"] = _median_ms(lambda: _ok(client.get("/organizer/")), repeats=REPEATS)
        result["load"] = os.getloadavg()[0]
        with app.app_context():
            db.engine().dispose()
        if result["week"] != result["brute_week"]:
            raise RuntimeError(f"overview says {result['week']} letters in 7 days, "
                               f"a recount {result['brute_week']}")
        return result


def _median_cpu_ms(fn: Callable[[], Any], repeats: int) -> float:
    """Return the median CPU time of this process for `fn()` in milliseconds (what load does not inflate)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def run() -> str:
    """Run the benchmark on SQLite (and PostgreSQL when configured); return the Markdown section."""
    results = on_each_seeded_database(measure)
    lines = [
        "## Campaign overview (`python -m bench overview`)",
        "",
        "Reproduce: `ACTIONTOOL_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test "
        "python -m bench overview` (leave the variable out for SQLite only; ACTIONTOOL_BENCH_MESSAGES "
        "changes the size). The organizers' index, signed in, through the Flask test client, warm; medians "
        f"of {REPEATS}. Baseline: the brute-force count of the last seven days' letters over the messages "
        "table.",
        f"Machine: {machine()}.",
        "",
        "| database | messages | seeding | baseline (brute force) | overview query | whole page, warm "
        "| our CPU in it | page, days counted afresh | × baseline | target < 50 ms | 7-day count = recount "
        "| load average |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for name, r in results:
        met = "met" if r["page_ms"] < PAGE_LIMIT_MS else "NOT met"
        seeded = "shared" if r["reused"] else f"{r['seed_s']:.0f} s"
        lines.append(f"| {name} | {r['messages']:,} | {seeded} | {r['baseline_ms']:.1f} ms "
                     f"| {r['query_ms']:.2f} ms | {r['page_ms']:.1f} ms | {r['page_cpu_ms']:.1f} ms "
                     f"| {r['cold_page_ms']:.1f} ms | {r['page_ms'] / r['baseline_ms']:.3f} "
                     f"| {met} | {r['week']:,} = {r['brute_week']:,} | {r['load']:.1f} |")
    lines += [
        "",
        "Notes:",
        "- The page reads the campaigns and their totals from `campaign_counts` in one statement (a few rows "
        "per campaign) and each campaign's last seven days from the member roll-up in one statement for "
        "all campaigns (\"overview query\": both statements). The days are kept per process while the "
        "campaign's totals row is unchanged (DASHBOARD_CACHE_ENTRIES, exact as the dashboard's kept counts: "
        "every submit and status change changes that row), so a warm page runs the sign-in's read and the "
        "totals statement only; \"days counted afresh\" is the page with that cache off.",
        "- \"Our CPU\" is this process's CPU time for the whole page (time.process_time): what the page "
        "itself costs, which the machine's load does not inflate as it does the wall times. The load "
        "average is the machine's (1 minute) at the end of the measurement; on a 2-core machine shared "
        "with other work, wall times above our CPU are mostly waiting for a core.",
        "- Seeding: `bench.stats.seed_database` (COPY / one prepared bulk insert, local days and hours, "
        "the roll-ups rebuilt once); \"shared\" when `python -m bench stats overview` seeded it for "
        "the dashboard benchmark in the same run.",
        "",
    ]
    return "\n".join(lines)
