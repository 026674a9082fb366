"""'Deliver to offices' benchmark: the packet page and the worker's claim at a million waiting letters.

Seeds ACTIONTOOL_BENCH_MESSAGES messages (default 1,000,000) with `actiontool dev seed`'s service, gives
every action a ZIP and a city (about 60 ZIPs per House district, the city a function of the ZIP, so the
places roll-up is as large as the country's ZIPs make it), then turns every letter into a packet letter
waiting for the organization: the worst case for the page. Roll-ups are rebuilt. Times, as medians:
waiting_by_member (limit 150 ms), the whole signed-in page (limit 150 ms), a packet of a mid-sized member,
and the worker's claim with nothing due among the million waiting letters. Prints the query plans.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import bindparam, select, text, update

from actiontool import db
from actiontool.delivery.settings import from_config
from actiontool.delivery.worker import claim_messages, due_clause
from actiontool.models import PACKET, QUEUED, Action, Message, utcnow
from actiontool.services import counts, organizers, packet_counts, packets
from actiontool.services.seed import seed
from bench._report import machine
from bench._seeded import bench_app
from bench.stats import REPEATS, _median_ms, _ok, on_each_database

SLUG = "detect-and-defeat"
LIMIT_MS = 150.0
PASSWORD = "benchmark password"
ZIPS_PER_DISTRICT = 60


def _place(action_id: int, state: str, label: str | None) -> tuple[str, str]:
    """Return a synthetic (ZIP, city) for an action: one of its district's ZIPs, the city fixed by the ZIP."""
    district = label.split("-")[1] if label and "-" in label else "AL"
    number = 0 if district == "AL" else int(district)
    base = (sum(map(ord, state)) * 113) % 900 * 100  # a state's own range of ZIPs
    zip_code = f"{(base + number * ZIPS_PER_DISTRICT + action_id % ZIPS_PER_DISTRICT) % 100000:05d}"
    return zip_code, f"{state} City {int(zip_code) % 37}"


def _give_places(session: Any) -> None:
    """Give every action a ZIP and a city, in batches."""
    stmt = update(Action).where(Action.id == bindparam("aid")).values(zip=bindparam("z"), city=bindparam("c"))
    rows = session.execute(select(Action.id, Action.state, Action.district_label)).all()
    batch: list[dict[str, Any]] = []
    for action_id, state, label in rows:
        zip_code, city = _place(action_id, state, label)
        batch.append({"aid": action_id, "z": zip_code, "c": city})
        if len(batch) >= 5000:
            session.connection().execute(stmt.execution_options(synchronize_session=False), batch)
            batch = []
    if batch:
        session.connection().execute(stmt.execution_options(synchronize_session=False), batch)
    session.commit()


def _plans(session: Any) -> dict[str, list[str]]:
    """Return the query plans of the packet claim and the worker's claim."""
    take = (select(Message.id).where(Message.campaign == SLUG, Message.bioguide == "X000000",
                                     Message.channel == PACKET, Message.status == QUEUED,
                                     Message.packet_id.is_(None)))
    claim = select(Message.id).where(due_clause(utcnow())).order_by(Message.created_at).limit(10)
    dialect = session.get_bind().dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    plans = {}
    for name, stmt in (("packet claim (UPDATE ... WHERE)", take), ("worker claim", claim)):
        compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        rows = session.execute(text(prefix + str(compiled))).all()
        plans[name] = [str(row[-1]) for row in rows]
    return plans


def measure(url: str, n: int) -> dict[str, Any]:
    """Seed `n` waiting packet letters at `url` and time the page, the service and the worker's claim."""
    with bench_app(url) as (app, members):
        result: dict[str, Any] = {}
        with db.session_scope(app) as session:
            start = time.perf_counter()
            result["messages"] = seed(session, SLUG, n, members)
            _give_places(session)
            session.execute(update(Message).values(channel=PACKET, status=QUEUED, next_attempt_at=None)
                            .execution_options(synchronize_session=False))
            session.commit()
            counts.rebuild(session, SLUG)  # the packet roll-ups with it
            session.execute(text("ANALYZE"))
            session.commit()
            result["seed_s"] = time.perf_counter() - start
            organizers.create(session, "bench@example.org", PASSWORD)
        with db.session_scope(app) as session:
            waiting = packets.waiting_by_member(session, SLUG)
            result["members"] = len(waiting)
            result["places"] = session.execute(select(packet_counts.PLACES.c.bioguide).where(
                packet_counts.PLACES.c.n > 0)).all().__len__()
            result["waiting_ms"] = _median_ms(lambda: packets.waiting_by_member(session, SLUG))
            result["plans"] = _plans(session)
            settings = from_config(app.config).worker
            result["claim_ms"] = _median_ms(lambda: claim_messages(session, lambda slug: None,  # type: ignore
                                                                   settings))
            middle = waiting[len(waiting) // 2]
            start = time.perf_counter()
            packet = packets.make_packet(session, SLUG, middle.bioguide, "bench@example.org")
            result["packet"] = (packet.letter_count, (time.perf_counter() - start) * 1000)
        client = app.test_client()
        client.post("/organizer/login", data={"email": "bench@example.org", "password": PASSWORD})
        path = f"/organizer/c/{SLUG}/offices"
        _ok(client.get(path))  # the first request loads the dataset and compiles the template
        result["page_ms"] = _median_ms(lambda: _ok(client.get(path)), repeats=REPEATS)
        with app.app_context():
            db.engine().dispose()
        return result


def _section(name: str, r: dict[str, Any]) -> list[str]:
    size, packet_ms = r["packet"]
    worst = max(r["waiting_ms"], r["page_ms"])
    lines = [
        f"### {name}: {r['messages']:,} letters waiting for packets",
        "",
        f"- Seeding (messages, places, channel, roll-ups): {r['seed_s']:.0f} s; {r['members']} members wait, "
        f"{r['places']:,} member × ZIP × city rows.",
        f"- `waiting_by_member`: {r['waiting_ms']:.1f} ms; whole page `/organizer/c/<slug>/offices`: "
        f"{r['page_ms']:.1f} ms (limit {LIMIT_MS:.0f} ms: {'met' if worst < LIMIT_MS else 'NOT met'}).",
        f"- Making a packet of a mid-sized member ({size:,} letters, snapshot included): {packet_ms:.0f} ms.",
        f"- The worker's claim with nothing due among them: {r['claim_ms']:.2f} ms.",
        "",
    ]
    for plan, steps in r["plans"].items():
        lines.append(f"Plan of the {plan}:")
        lines.append("")
        lines += [f"    {step}" for step in steps]
        lines.append("")
    return lines


def run() -> str:
    """Run the benchmark on SQLite (and PostgreSQL when configured); return the Markdown section."""
    results = on_each_database(measure)
    lines = [
        "## Deliver to offices (`python -m bench offices`)",
        "",
        "Reproduce: `ACTIONTOOL_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test "
        "python -m bench offices` (leave the variable out for SQLite only; ACTIONTOOL_BENCH_MESSAGES "
        "changes the size). Every seeded letter waits for a packet, the worst case for the page: it reads "
        "the roll-ups of services/packet_counts.py, never the letters themselves.",
        "The worker's claim on SQLite: with the statistics that ANALYZE gathers over a table holding one "
        "status and one channel, SQLite expects every index lookup to return the whole table and scans it "
        "(the plan below); without statistics (the app never runs ANALYZE) it searches ix_messages_due for "
        "each branch of the claim (MULTI-INDEX OR). PostgreSQL knows each value's frequency and uses the "
        "index either way.",
        f"Machine: {machine()}.",
        "",
    ]
    for name, result in results:
        lines += _section(name, result)
    return "\n".join(lines)
