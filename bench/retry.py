"""'Retry all that match' benchmark: 10,000 failed messages queued again in one step (limit 2 s).

Seeds ACTIONTOOL_BENCH_RETRY_MESSAGES messages (default 200,000) with `actiontool dev seed`'s service, fails
10,000 of them with one reason (an outage), and times services.retries.retry_matching on them: one
transaction, one UPDATE ... RETURNING, the roll-ups moved, one audit row. Median of three runs (the
messages are failed again between runs). The baseline, in the same run: the single Retry button's
service (organizers.retry_message) on 200 messages, extrapolated to 10,000. Also the whole signed-in POST
of the delivery page's form.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from sqlalchemy import func, select, update

from actiontool import db
from actiontool.models import FAILED, QUEUED, Message, utcnow
from actiontool.services import counts, organizers
from actiontool.services.retries import FailedFilter, retry_matching
from actiontool.services.seed import seed
from bench._report import machine
from bench._seeded import bench_app
from bench.stats import on_each_database

SLUG = "detect-and-defeat"
FAILED_N = 10_000
BASELINE_N = 200
LIMIT_S = 2.0
REASON = "CWC answered 503 Service Unavailable (outage)"
PASSWORD = "benchmark password"


def _fail(session: Any, ids: list[str]) -> None:
    """Fail these messages again, with the outage's reason, keeping the roll-ups exact."""
    returning = (Message.id, Message.campaign, Message.bioguide, Message.created_day, Message.ref,
                 Message.channel, Message.state, Message.district, Message.chamber, Message.member_name)
    for start in range(0, len(ids), 5000):
        rows = session.execute(update(Message).where(Message.id.in_(ids[start:start + 5000]),
                                                     Message.status != FAILED)
                               .values(status=FAILED, last_error=REASON, attempts=8, updated_at=utcnow())
                               .returning(*returning)
                               .execution_options(synchronize_session=False)).all()
        counts.record_status_changes(session, rows, QUEUED, FAILED)  # every one was queued before
    session.commit()


def measure(url: str, n: int) -> dict[str, Any]:
    """Seed `n` messages at `url`, fail 10,000 and time retrying them all, and one by one."""
    n = int(os.environ.get("ACTIONTOOL_BENCH_RETRY_MESSAGES", "200000"))
    with bench_app(url) as (app, members):
        result: dict[str, Any] = {}
        with db.session_scope(app) as session:
            result["messages"] = seed(session, SLUG, n, members)
            # Every seeded message queued first, so that failing them is one kind of move for the roll-ups.
            session.execute(update(Message).values(status=QUEUED).execution_options(synchronize_session=False))
            session.commit()
            counts.rebuild(session, SLUG)
            organizers.create(session, "bench@example.org", PASSWORD)
            ids = list(session.execute(select(Message.id).order_by(Message.id).limit(FAILED_N + BASELINE_N))
                       .scalars())
            chosen, baseline_ids = ids[:FAILED_N], ids[FAILED_N:]
            times, cpu = [], []
            for _ in range(3):
                _fail(session, chosen)
                start, start_cpu = time.perf_counter(), time.process_time()
                outcome = retry_matching(session, SLUG, FailedFilter(reason="outage"), actor="bench")
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                assert outcome.retried == FAILED_N, outcome
            result["retry_s"] = statistics.median(times)
            result["cpu_s"] = statistics.median(cpu)
            _fail(session, baseline_ids)
            start = time.perf_counter()
            for message_id in baseline_ids:
                organizers.retry_message(session, SLUG, message_id, actor="bench")
            result["one_by_one_s"] = (time.perf_counter() - start) / len(baseline_ids) * FAILED_N
            totals = counts.campaign_totals(session, SLUG)
            recount = dict(session.execute(select(Message.status, func.count())
                                           .group_by(Message.status)).all())
            result["exact"] = all(totals[s] == recount.get(s, 0) for s in (QUEUED, FAILED))
            _fail(session, chosen)
        client = app.test_client()
        client.post("/organizer/login", data={"email": "bench@example.org", "password": PASSWORD})
        start = time.perf_counter()
        response = client.post(f"/organizer/c/{SLUG}/delivery/retry", data={"reason": "outage"})
        result["post_s"] = time.perf_counter() - start
        result["load"] = os.getloadavg()[0]
        if response.status_code != 302:
            raise RuntimeError(f"the retry form answered {response.status_code}")
        with app.app_context():
            db.engine().dispose()
        return result


def _section(name: str, r: dict[str, Any]) -> list[str]:
    ratio = r["one_by_one_s"] / r["retry_s"]
    return [
        f"### {name}: {FAILED_N:,} failed among {r['messages']:,} messages",
        "",
        f"- `retry_matching` (reason contains \"outage\"): {r['retry_s'] * 1000:.0f} ms, median of 3 "
        f"(limit {LIMIT_S:.0f} s: {'met' if r['retry_s'] < LIMIT_S else 'NOT met'}).",
        f"- CPU time of this process during it: {r['cpu_s'] * 1000:.0f} ms (on SQLite the whole work; "
        "on PostgreSQL the server's share is not in it).",
        f"- The whole signed-in POST of \"Retry all that match\": {r['post_s'] * 1000:.0f} ms.",
        f"- Baseline, the single Retry button's service {FAILED_N:,} times (extrapolated from {BASELINE_N}): "
        f"{r['one_by_one_s']:.1f} s, {ratio:.0f}× the one-step retry.",
        f"- Roll-up totals equal a recount afterwards: {'yes' if r['exact'] else 'NO'}.",
        f"- Load average while measuring: {r['load']:.0f} on {os.cpu_count()} cores (other test runs shared "
        "the machine and its PostgreSQL: the absolute times scale with it, the ratio to the baseline less).",
        "",
    ]


def run() -> str:
    """Run the benchmark on SQLite (and PostgreSQL when configured); return the Markdown section."""
    results = on_each_database(measure)
    lines = [
        "## Retry all that match (`python -m bench retry`)",
        "",
        "Reproduce: `ACTIONTOOL_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test "
        "python -m bench retry` (leave the variable out for SQLite only; ACTIONTOOL_BENCH_RETRY_MESSAGES "
        "changes the seeded size). The delivery page's \"Retry all that match\" and `actiontool retry` share "
        "services/retries.py: one UPDATE ... RETURNING of the matching failed messages, the roll-up moves "
        "added up per key and written at once (PostgreSQL: the rows locked in key order, then one UPDATE ... "
        "FROM unnest(...) per roll-up; SQLite: one executemany per roll-up), one audit row.",
        f"Machine: {machine()}.",
        "",
    ]
    for name, result in results:
        lines += _section(name, result)
    return "\n".join(lines)
