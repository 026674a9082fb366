"""Migration 0008 (roll-up slots) keeps every count: the sums per key before the upgrade equal those after,
the services read them, new writes land beside them, and a downgrade adds the slots back into one row."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from actiontool import migrations
from actiontool.db import make_engine
from actiontool.services import stats
from actiontool.services.submit import submit
from tests.factories import outgoing, submission

pytestmark = pytest.mark.empty_database

DAY = date(2026, 11, 1)
MEMBER = ("INSERT INTO {table} (campaign, day, bioguide, {ref}channel, state, district, chamber, "
          "member_name, "
          "queued, sending, delivered, needs_constituent, handed_off, failed) VALUES "
          "('c1', :day, :bioguide, {refv}'smtp', 'WI', :district, :chamber, 'Member', :q, 1, :d, 0, 0, 2)")
ROWS = [{"bioguide": "S000001", "district": None, "chamber": "senate", "q": 5, "d": 7},
        {"bioguide": "H000003", "district": 3, "chamber": "house", "q": 4, "d": 11}]
# table: the key columns summed per key in `_sums`
KEYS = {"message_counts": "campaign, day, bioguide, ref, channel",
        "message_counts_by_member": "campaign, day, bioguide, channel",
        "message_counts_by_source": "campaign, day, state, ref, channel",
        "action_counts": "campaign, day, state, district_label, ref",
        "campaign_counts": "campaign"}
COUNTERS = {"action_counts": ("n",), "campaign_counts": ("actions", "constituents", "queued", "sending",
                                                          "delivered", "needs_constituent", "handed_off",
                                                          "failed")}
STATUS_COLUMNS = ("queued", "sending", "delivered", "needs_constituent", "handed_off", "failed")


def _seed_0004(engine: Engine) -> None:
    with engine.begin() as conn:
        for row in ROWS:
            for table, ref in (("message_counts", True), ("message_counts_by_member", False)):
                conn.execute(text(MEMBER.format(table=table, ref="ref, " if ref else "",
                                                refv="'tv', " if ref else "")), {**row, "day": DAY})
        conn.execute(text("INSERT INTO message_counts_by_source (campaign, day, state, ref, channel, queued, "
                          "sending, delivered, needs_constituent, handed_off, failed) VALUES "
                          "('c1', :day, 'WI', 'tv', 'smtp', 9, 2, 18, 0, 0, 4)"), {"day": DAY})
        conn.execute(text("INSERT INTO action_counts (campaign, day, state, district_label, ref, n) VALUES "
                          "('c1', :day, 'WI', 'WI-3', 'tv', 15)"), {"day": DAY})
        conn.execute(text("INSERT INTO campaign_counts (campaign, actions, constituents, queued, sending, "
                          "delivered, needs_constituent, handed_off, failed, updated_at) VALUES "
                          "('c1', 15, 14, 9, 2, 18, 0, 0, 4, :at)"), {"at": "2026-11-01 12:00:00"})


def _sums(engine: Engine) -> dict[str, Any]:
    """Return every count table's counters summed per key (what the readers see, whatever the slots)."""
    result = {}
    with engine.connect() as conn:
        for table, keys in KEYS.items():
            counters = COUNTERS.get(table, STATUS_COLUMNS)
            sums = ", ".join(f"SUM({c})" for c in counters)
            rows = conn.execute(text(f"SELECT {keys}, {sums} FROM {table} GROUP BY {keys} ORDER BY {keys}"))
            result[table] = [tuple(str(v) for v in row) for row in rows]
    return result


def test_upgrading_to_slots_keeps_every_count_and_a_downgrade_keeps_them_too(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.apply_migrations(engine, "0004")
        _seed_0004(engine)
        before = _sums(engine)
        migrations.apply_migrations(engine)
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert migrations.schema_differences(engine) == []
        assert _sums(engine) == before
        with engine.connect() as conn:
            assert set(conn.execute(text("SELECT slot FROM message_counts")).scalars()) == {0}
        with Session(engine) as session:
            totals = stats.totals(session, "c1")
            assert (totals["actions"], totals["constituents"], totals["delivered"], totals["failed"]) == \
                (15, 14, 18, 4)
            by_member = {r["key"]: r["delivered"] for r in stats.by(session, "c1", "member")}
            assert by_member == {"S000001": 7, "H000003": 11}
            assert submit(session, submission([outgoing("S000001")], campaign="c1")).created
            totals = stats.totals(session, "c1")
            assert (totals["actions"], totals["queued"]) == (16, 10)
        after_submit = _sums(engine)
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0004")
        assert _sums(engine) == after_submit
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM campaign_counts")).scalar_one() == 1
    finally:
        engine.dispose()
