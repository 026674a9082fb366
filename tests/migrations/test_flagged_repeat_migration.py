"""Migration 0004 (flagged repeats) upgrades a database of revision 0003, keeps its rows, and its actions
still de-duplicate: the same writer again writes nothing, another name with the same e-mail is flagged."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from actiontool import migrations
from actiontool.db import make_engine
from actiontool.services.submit import constituent_key, submit
from tests.factories import outgoing, submission

pytestmark = pytest.mark.empty_database

# No explicit id: PostgreSQL's sequence must hand out the ids the later submits use.
ACTION = ("INSERT INTO actions (receipt_token, campaign, created_at, created_day, lang, state, "
          "first_name, last_name, email, address1, city, zip, wants_receipt_email, receipt_email_attempts) "
          "VALUES ('tok', 'c1', :at, :day, 'en', 'WI', 'Jane', 'Doe', 'jane@example.org', '1 Main St', "
          "'Madison', '53703', :no, 0)")
MESSAGE = ("INSERT INTO messages (id, action_id, campaign, constituent_key, bioguide, member_name, "
           "member_title, chamber, state, channel, status, subject, suggested_text, edited, attempts, "
           "created_at, created_day, updated_at) VALUES ('m1', (SELECT id FROM actions), 'c1', :key, "
           "'S000001', 'Sam One', 'Senator', 'senate', 'WI', 'smtp', 'queued', 'Please act', 'Dear Sam', "
           ":no, 0, :at, :day, :at)")


def test_upgrading_from_0003_keeps_actions_unflagged_and_they_still_deduplicate(database_url: str) -> None:
    engine = make_engine(database_url)
    at = datetime(2026, 11, 1, 12, 0)
    try:
        migrations.apply_migrations(engine, "0003")
        with engine.begin() as conn:
            values = {"at": at, "day": at.date(), "no": False, "key": constituent_key("jane@example.org")}
            conn.execute(text(ACTION), values)
            conn.execute(text(MESSAGE), values)
        migrations.apply_migrations(engine)
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert migrations.schema_differences(engine) == []
        with engine.connect() as conn:
            row = conn.execute(text("SELECT first_name, flagged_repeat, identity_key FROM actions")).one()
            assert (row[0], bool(row[1]), row[2]) == ("Jane", False, None)
            # On SQLite a table copy of `actions` would cascade-delete every message.
            assert conn.execute(text("SELECT count(*) FROM messages")).scalar_one() == 1
        with Session(engine) as session:
            letters = [outgoing("S000001")]
            same = submit(session, submission(letters, campaign="c1", first_name="JANE",
                                              address1="1 main st"))
            assert (same.created, same.receipt_token) == (False, "tok")
            other = submit(session, submission(letters, campaign="c1", first_name="Mallory"))
            assert other.created
        with engine.connect() as conn:
            flagged = conn.execute(text("SELECT first_name FROM actions WHERE flagged_repeat")).scalars()
            assert flagged.all() == ["Mallory"]
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0003")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM messages")).scalar_one() == 2
    finally:
        engine.dispose()
