"""Migration 0002 (packets) upgrades a database of revision 0001 and keeps its rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from actiontool import migrations
from actiontool.db import make_engine

ACTION = ("INSERT INTO actions (id, receipt_token, campaign, created_at, created_day, lang, state, "
          "first_name, wants_receipt_email, receipt_email_attempts) "
          "VALUES (1, 'tok', 'c1', :at, :day, 'en', 'WI', 'Jane', :no, 0)")
MESSAGE = ("INSERT INTO messages (id, action_id, campaign, constituent_key, bioguide, member_name, "
           "member_title, chamber, state, channel, status, subject, suggested_text, edited, attempts, "
           "created_at, created_day, updated_at) VALUES ('m1', 1, 'c1', 'k', 'R000001', 'Rita One', "
           "'Representative', 'house', 'WI', 'smtp', 'queued', 'Please act', 'Dear Rita', :no, 0, :at, :day, "
           ":at)")


def test_upgrading_from_0001_keeps_messages_and_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    at = datetime(2026, 11, 1, 12, 0)
    try:
        migrations.apply_migrations(engine, "0001")
        with engine.begin() as conn:
            conn.execute(text(ACTION), {"at": at, "day": at.date(), "no": False})
            conn.execute(text(MESSAGE), {"at": at, "day": at.date(), "no": False})
        migrations.apply_migrations(engine)
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert migrations.schema_differences(engine) == []
        with engine.connect() as conn:
            row = conn.execute(text("SELECT id, status, suggested_text, packet_id FROM messages")).one()
            assert tuple(row) == ("m1", "queued", "Dear Rita", None)
            assert conn.execute(text("SELECT first_name FROM actions")).scalar_one() == "Jane"
            assert conn.execute(text("SELECT count(*) FROM packets")).scalar_one() == 0
    finally:
        engine.dispose()
