"""A submit's roll-up writes as one call of `count_submit` on PostgreSQL: the same rows, in the same slots,
as the statements it replaces (which SQLite keeps sending), and exact against a recount."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from actiontool import db
from actiontool.models import Action, ActionHourCount, CampaignConstituent, Message
from actiontool.services import counts, local_days, stats
from actiontool.services.outbox import set_status
from actiontool.services.submit import submit
from tests.factories import MEMBERS, outgoing, outgoing_to, with_senators
from tests.factories import submission as make_submission
from tests.services.test_count_slots import assert_every_slot_exact

CAMPAIGN = "c1"
HOUSE = [m for m in MEMBERS if m.chamber == "house"]
AT = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
# Every table a submit counts in, and the columns compared (campaign_counts without its timestamp).
TABLES: dict[str, tuple[str, ...] | None] = {
    "action_counts": None, "message_counts": None, "message_counts_by_member": None,
    "message_counts_by_source": None, "campaign_constituents": None, "action_hour_counts": None,
    "campaign_counts": ("campaign", "slot", "actions", "constituents", "queued", "sending", "delivered",
                        "needs_constituent", "handed_off", "failed"),
    "packet_waiting_days": None,
}


def _submit_all(session: Session) -> list[bool]:
    """Submit a mix: refs and none, hand-off, packet and e-mail letters, a repeat, a flagged repeat (w0 as
    Bo to the member w0 wrote to as Ana), one who writes again to another member (no new constituent)."""
    created = []
    for i in range(7):
        house = HOUSE[i % 2] if i < 6 else HOUSE[2]  # two districts, so submits meet on roll-up rows
        letters = [outgoing_to(m, channel=("packet", "smtp", "handoff")[i % 3] if m.chamber == "house"
                               else "smtp") for m in with_senators(house)]
        sub = make_submission(letters, email=f"w{i % 4}@example.org", campaign=CAMPAIGN,
                              ref=(None, "Radio")[i // 3 % 2], state=house.state,
                              district_label=stats.district_label(house.state, house.district),
                              first_name="Ana" if i in (0, 1, 2, 3, 6) else "Bo")
        created.append(submit(session, sub, now=AT, time_zone="America/Chicago").created)
    again = make_submission([outgoing("S000001", channel="smtp")], email="w0@example.org", campaign=CAMPAIGN)
    created.append(submit(session, again, now=AT).created)
    created.append(submit(session, again, now=AT).created)  # the same person again: nothing written
    return created


def _tables(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    result = {}
    for table, columns in TABLES.items():
        names = ", ".join(columns) if columns else "*"
        rows = session.execute(text(f"SELECT {names} FROM {table}")).all()
        result[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return result


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL the app's engine sends."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    with app.app_context():
        engine = db.engine()
    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def test_the_function_writes_what_the_statements_write(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                                       statements: list[str]) -> None:
    monkeypatch.setattr(counts, "SLOTS", 2)  # submits meet on rows: the upserts' UPDATE branches run too
    with db.session_scope(app) as s:
        postgresql = s.get_bind().dialect.name == "postgresql"
        assert _submit_all(s) == [True] * 8 + [False]
        assert_every_slot_exact(s)
        with_function = _tables(s)
        sent = [x for x in statements if "count_submit" in x or "INTO message_counts" in x]
        assert all(("count_submit" in x) == postgresql for x in sent) and sent
        if not postgresql:
            return  # SQLite has one path: the statements
        s.execute(text("TRUNCATE actions, messages, " + ", ".join(TABLES) + " RESTART IDENTITY CASCADE"))
        s.commit()
    monkeypatch.setattr(counts, "USE_SUBMIT_FUNCTION", False)
    statements.clear()
    with db.session_scope(app) as s:
        assert _submit_all(s) == [True] * 8 + [False]
        assert not any("count_submit" in x for x in statements)
        assert _tables(s) == with_function
        assert with_function["campaign_counts"] and with_function["packet_waiting_days"]


def test_a_submit_counts_exactly_against_a_recount(app: Flask) -> None:
    with db.session_scope(app) as s:
        _submit_all(s)
        totals = counts.campaign_totals(s, CAMPAIGN)
        messages = s.execute(select(Message.status, func.count()).where(Message.campaign == CAMPAIGN)
                             .group_by(Message.status)).all()
        assert {k: v for k, v in totals.items() if k in dict(messages)} == dict(messages)
        assert totals["actions"] == 8
        distinct = s.execute(select(func.count(func.distinct(Message.constituent_key)))).scalar_one()
        assert totals["constituents"] == distinct == s.execute(
            select(func.count()).select_from(CampaignConstituent)).scalar_one()
        assert sum(local_days.by_hour(s, CAMPAIGN)) == 8
        assert s.execute(select(func.count()).where(Action.flagged_repeat)).scalar_one() >= 1
        hours = dict(s.execute(select(ActionHourCount.hour, func.sum(ActionHourCount.n))
                               .group_by(ActionHourCount.hour)).all())
        assert hours == {9: 7, 10: 1}  # 15:30 UTC in Chicago and in New York (the default zone)
        assert totals["updated_at"] is not None


def test_counts_collected_earlier_in_the_transaction_keep_the_statements(app: Flask) -> None:
    """A status move waiting for commit must be applied before the totals row: no function call then."""
    with db.session_scope(app) as s:
        _submit_all(s)
        message = s.execute(select(Message).where(Message.status == "queued")).scalars().first()
        set_status(s, message, "delivered")
        assert not counts._submit_function_applies(s, "postgresql", message.action_id, [message])
        s.rollback()
        assert counts._submit_function_applies(s, "postgresql", message.action_id, [message])
        assert not counts._submit_function_applies(s, "sqlite", message.action_id, [message])
