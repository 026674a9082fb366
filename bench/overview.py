"""Campaign overview benchmark: the organizers' index (/organizer) at a million messages.

Seeds ACTIONTOOL_BENCH_MESSAGES messages (default 1,000,000) as the dashboard benchmark does (bench/stats.py:
a fresh SQLite file, then a PostgreSQL schema of its own when ACTIONTOOL_TEST_DATABASE_URL is set), with
the last seeded day today, so the overview's seven days hold letters. Then times, as medians: the overview
query (services.overview) and the whole signed-in page through the test client (target: under 50 ms);
the baseline of the same run is the brute-force count of the last seven days over the messages table.
"""

from __future__ import annotations

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
        "| database | messages | seeding | baseline (brute force) | overview query | whole page | × baseline "
        "| target < 50 ms | 7-day count = recount |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, r in results:
        met = "met" if r["page_ms"] < PAGE_LIMIT_MS else "NOT met"
        lines.append(f"| {name} | {r['messages']:,} | {r['seed_s']:.0f} s | {r['baseline_ms']:.1f} ms "
                     f"| {r['query_ms']:.2f} ms | {r['page_ms']:.1f} ms "
                     f"| {r['page_ms'] / r['baseline_ms']:.3f} "
                     f"| {met} | {r['week']:,} = {r['brute_week']:,} |")
    lines += [
        "",
        "Notes:",
        "- The overview reads one row per campaign from `campaign_counts` and the last seven days from the "
        "member roll-up, a range of its primary key (campaign, day, ...): its cost follows the number of "
        "members written to in a week, not the number of messages.",
        "",
    ]
    return "\n".join(lines)
