"""Migration 0014 (the `count_submit` function) keeps every count: the sums before the upgrade equal those
after, a submit then adds to them (through the function on PostgreSQL), and a downgrade keeps them and
removes the function."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from actiontool import migrations
from actiontool.db import make_engine
from actiontool.models import COUNT_SUBMIT_FUNCTION
from actiontool.services import counts, stats
from actiontool.services.submit import submit
from tests.factories import outgoing, submission
from tests.migrations.test_rollup_slots_migration import KEYS, _sums

pytestmark = pytest.mark.empty_database


def _function_source(engine: Engine) -> str | None:
    """Return the body of the schema's count_submit (None without one; SQLite has none)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'count_submit' "
                                 "AND pg_function_is_visible(oid)")).scalar_one_or_none()


def _submit(engine: Engine, email: str, bioguide: str) -> None:
    with Session(engine) as session:
        assert submit(session, submission([outgoing(bioguide, channel="smtp")], email=email,
                                          campaign="c1", ref="tv")).created


def test_upgrading_to_0014_keeps_every_count_and_submits_count_on(database_url: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(database_url)
    postgresql = engine.dialect.name == "postgresql"
    try:
        migrations.apply_migrations(engine, "0011")
        assert _function_source(engine) is None
        with monkeypatch.context() as m:  # the schema of 0011 has no function: the statements count
            m.setattr(counts, "USE_SUBMIT_FUNCTION", False)
            _submit(engine, "a@example.org", "S000001")
            _submit(engine, "b@example.org", "S000002")
        before = _sums(engine)
        assert set(before) == set(KEYS) and before["campaign_counts"]
        migrations.apply_migrations(engine)
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert migrations.schema_differences(engine) == []
        assert _sums(engine) == before
        if postgresql:  # the migrated function is the one a new database gets from the models
            body = COUNT_SUBMIT_FUNCTION.split("$fn$")[1]
            assert _function_source(engine) == body
        _submit(engine, "c@example.org", "S000001")
        with Session(engine) as session:
            totals = stats.totals(session, "c1")
            assert (totals["actions"], totals["constituents"], totals["queued"]) == (3, 3, 3)
            by_member = {r["key"]: r["queued"] for r in stats.by(session, "c1", "member")}
            assert by_member == {"S000001": 2, "S000002": 1}
        after: dict[str, Any] = _sums(engine)
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0011")
        assert _sums(engine) == after
        assert _function_source(engine) is None
    finally:
        engine.dispose()
