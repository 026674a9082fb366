"""Migration 0009 lower-cases stored refs and merges the roll-up rows that then share a key: every count
equals a brute-force recount afterwards, and `Ohio-Parents` and `ohio-parents` are one source."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from actiontool import migrations
from actiontool.db import make_engine
from actiontool.models import Action, Message
from actiontool.services import stats
from actiontool.services.stats import NO_REF, Filters
from tests.factories import MEMBERS, write_submission

pytestmark = pytest.mark.empty_database

HOUSE = [m for m in MEMBERS if m.chamber == "house"]


def test_upgrading_to_0009_merges_mixed_case_refs_exactly(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        # Rows written as an older version kept them (mixed case, one roll-up row per spelling), written at
        # the head (the factory inserts refs as given) and then taken back to the revision before 0009: the
        # factory writes every column of the current schema, so it cannot write at an older revision itself.
        migrations.apply_migrations(engine)
        with Session(engine) as s:
            refs = ["Ohio-Parents", "ohio-parents", "OHIO-PARENTS", None, "Nurses", "nurses"]
            for i, ref in enumerate(refs * 2):
                write_submission(s, "c1", f"p{i}@example.org", HOUSE[i % len(HOUSE)],
                                 day=date(2026, 3, 1 + i % 2), ref=ref)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM actions WHERE ref <> lower(ref)")).scalar_one() > 0
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0008")
        migrations.apply_migrations(engine)
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert migrations.schema_differences(engine) == []
        with engine.connect() as conn:
            mixed = "SELECT count(*) FROM actions WHERE ref <> lower(ref)"
            assert conn.execute(text(mixed)).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM message_counts WHERE ref <> lower(ref)")
                                ).scalar_one() == 0
        with Session(engine) as s:
            by_source = {r["key"]: r["messages"] for r in stats.by(s, "c1", "source")}
            brute = dict(s.execute(select(func.coalesce(Message.ref, NO_REF), func.count())
                                   .where(Message.campaign == "c1").group_by(Message.ref)).all())
            assert by_source == brute and set(by_source) == {"ohio-parents", "nurses", NO_REF}
            for ref in ("ohio-parents", "nurses"):
                for day in (None, date(2026, 3, 1)):
                    f = Filters(ref=ref, date_from=day, date_to=day)
                    on_day = [Action.created_day == day] if day else []
                    actions = s.execute(select(func.count()).select_from(Action).where(
                        Action.ref == ref, *on_day)).scalar_one()
                    assert stats.totals(s, "c1", f)["actions"] == actions
                    for dim in ("state", "district", "member", "day"):
                        total = sum(r["messages"] for r in stats.by(s, "c1", dim, f))
                        where = [Message.ref == ref] + ([Message.created_day == day] if day else [])
                        if dim == "district":
                            where.append(Message.district.is_not(None))
                        expected = s.execute(select(func.count()).select_from(Message)
                                             .where(*where)).scalar_one()
                        assert total == expected, (ref, day, dim)
    finally:
        engine.dispose()
