"""`actiontool dev seed` leaves every roll-up equal to a recount, in local days and hours, with no rebuild.

The seed writes its rows through the drivers' bulk paths (COPY, a prepared executemany) rather than the
ORM, so these tests check what it wrote the slow way: each row's day is the local day of its instant,
every roll-up answers as a brute-force recount does (across a DST change), and `stats --rebuild` would
change nothing. Then `relocalise` runs while submits go on and must keep the hour roll-up exact.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from actiontool import db
from actiontool.models import Action, Message
from actiontool.services import counts, local_days, stats
from actiontool.services.seed import seed
from actiontool.services.submit import submit
from tests.factories import MEMBERS, outgoing_to, with_senators
from tests.factories import submission as make_submission
from tests.services.test_counts import assert_counts_match
from tests.services.test_local_days import CAMPAIGN, HOUSE, _assert_local_counts, _local

# 2026-03-05 to 2026-03-10: New York moves to daylight time on the 8th, Los Angeles too.
LAST_DAY = date(2026, 3, 10)


def _all_rollups(session: Session) -> dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]:
    """Return every roll-up table's rows, summed over slots (readers never look at one slot alone)."""
    from actiontool.services import packet_counts  # noqa: F401 - adopts its tables into LOCK_ORDER

    result: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    for table in counts.LOCK_ORDER:
        result[table.name] = _summed(session, table)
    return result


def _summed(session: Session, table: Table) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    keys = [c for c in table.primary_key.columns if c.name != "slot"]
    values = [c for c in table.columns if c not in keys and c.name not in ("slot", "updated_at")]
    numeric = [c for c in values if c.type.python_type is int]
    other = [c for c in values if c.type.python_type is not int]
    stmt = select(*keys, *(func.sum(c) for c in numeric), *(func.max(c) for c in other)).group_by(*keys)
    return {tuple(row[:len(keys)]): tuple(row[len(keys):]) for row in session.execute(stmt)}


def _assert_rows_on_local_days(session: Session, time_zone: str) -> None:
    for model in (Action, Message):
        rows = session.execute(select(model.created_at, model.created_day)
                               .where(model.campaign == CAMPAIGN)).all()
        assert rows
        assert all(_local(at, time_zone).date() == day for at, day in rows), model


@pytest.mark.parametrize("time_zone", ["America/New_York", "America/Los_Angeles"])
def test_seed_across_a_dst_change_matches_brute_force_in_local_days(app: Flask, time_zone: str) -> None:
    with app.app_context(), db.session_scope(app) as s:
        inserted = seed(s, CAMPAIGN, 1500, MEMBERS, days=6, last_day=LAST_DAY, time_zone=time_zone)
        assert s.execute(select(func.count()).select_from(Message)).scalar_one() == inserted >= 1500
        _assert_rows_on_local_days(s, time_zone)
        days = {d for (d,) in s.execute(select(Action.created_day).distinct())}
        assert days == {LAST_DAY - timedelta(days=back) for back in range(6)}
        # Local days really differ from UTC days here, or the test would prove nothing.
        shifted = [at for (at,) in s.execute(select(Action.created_at))
                   if _local(at, time_zone).date() != at.replace(tzinfo=UTC).date()]
        assert len(shifted) > 50
        _assert_local_counts(s, time_zone, random.Random(3))  # days, actions, sources, hours
        assert_counts_match(s, random.Random(4), rounds=15)  # every dimension and filter, every status


def test_seed_leaves_nothing_for_stats_rebuild_to_change(app: Flask) -> None:
    """Every roll-up table (hours, packets, constituents, totals included) equals what a rebuild makes."""
    with app.app_context(), db.session_scope(app) as s:
        seed(s, CAMPAIGN, 600, MEMBERS, days=6, last_day=LAST_DAY)
        seed(s, CAMPAIGN, 300, MEMBERS, days=3, last_day=LAST_DAY, rng_seed=2)  # a second seed adds to it
        seeded = _all_rollups(s)
        assert seeded["action_hour_counts"] and seeded["campaign_counts"]
        local_days.relocalise(s, lambda _slug: "America/New_York", CAMPAIGN)
        counts.rebuild(s, CAMPAIGN)
        s.expire_all()
        assert _all_rollups(s) == seeded


def test_seed_defaults_to_today_in_the_campaigns_zone(app: Flask) -> None:
    with app.app_context(), db.session_scope(app) as s:
        seed(s, CAMPAIGN, 30, MEMBERS, days=1, time_zone="Pacific/Kiritimati")  # UTC+14
        today = _local(datetime.now(UTC), "Pacific/Kiritimati").date()
        assert {d for (d,) in s.execute(select(Action.created_day).distinct())} == {today}


def test_relocalise_while_submitting_stays_exact(app: Flask, database_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL relocalise takes the writers' locks, so hours submitted meanwhile are neither lost
    nor counted twice, and it never fails on a row a submit inserted after its read."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's one write lock already serialises relocalise and submits")
    count_hours = local_days._hours

    def slow_hours(*args: Any) -> Any:
        time.sleep(0.05)  # widen the window between clearing the hour roll-up and reading the actions
        return count_hours(*args)

    monkeypatch.setattr(local_days, "_hours", slow_hours)
    with app.app_context(), db.session_scope(app) as s:
        seed(s, CAMPAIGN, 300, MEMBERS, days=3, last_day=LAST_DAY)
    errors: list[BaseException] = []
    done = threading.Event()

    def submitter() -> None:
        rng = random.Random(8)
        try:
            with app.app_context(), db.session_scope(app) as s:
                for i in range(80):
                    house = rng.choice(HOUSE)
                    letters = [outgoing_to(m, channel="cwc") for m in with_senators(house)]
                    # Mostly hours nobody has counted yet: a submit then inserts the hour's row, the
                    # race an unlocked relocalise loses (its own insert of that hour fails, or misses it).
                    when = datetime(2026, 3, 11, tzinfo=UTC) + timedelta(minutes=rng.randrange(14 * 1440))
                    label = stats.district_label(house.state, house.district)
                    submit(s, make_submission(letters, email=f"r{i}@example.org", campaign=CAMPAIGN,
                                              state=house.state, district_label=label),
                           now=when, time_zone="America/New_York")
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)
        finally:
            done.set()

    def relocaliser() -> None:
        try:
            with app.app_context(), db.session_scope(app) as s:
                while not done.is_set():
                    local_days.relocalise(s, lambda _slug: "America/New_York", CAMPAIGN)
        except BaseException as exc:
            errors.append(exc)
            done.set()

    threads = [threading.Thread(target=submitter), threading.Thread(target=relocaliser)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with app.app_context(), db.session_scope(app) as s:
        assert s.execute(select(func.count()).select_from(Action)).scalar_one() > 80
        _assert_local_counts(s, "America/New_York", random.Random(9))
