"""Slotted roll-ups: every slot's row equals a recount of its slot's messages, and a rebuild running in a
loop while submits and status changes run never corrupts a count nor fails a writer (SQLite, PostgreSQL)."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actiontool import db
from actiontool.models import STATUSES, Action, Message
from actiontool.services import counts, stats
from actiontool.services.outbox import set_status
from actiontool.services.submit import Submission, submit
from tests.factories import MEMBERS, outgoing_to, with_senators
from tests.factories import submission as make_submission
from tests.services.test_counts import CAMPAIGN, assert_counts_match

DAY0 = date(2026, 3, 1)
HOUSE = [m for m in MEMBERS if m.chamber == "house"]
REFS = [None, "tv", "nurses"]


def _submission(email: str, house: Any, ref: str | None) -> Submission:
    letters = [outgoing_to(m, channel="smtp" if m.chamber == "senate" else "handoff")
               for m in with_senators(house)]
    return make_submission(letters, email=email, campaign=CAMPAIGN, ref=ref, state=house.state,
                           district_label=stats.district_label(house.state, house.district))


def _rows(session: Session, table: Any, columns: tuple[str, ...]) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Return a roll-up table's non-zero rows as {(key..., slot): per-status counts}."""
    t = table.c
    result = {}
    for row in session.execute(select(*(t[c] for c in (*columns, "slot")), *(t[s] for s in STATUSES))):
        values = tuple(int(v) for v in row[len(columns) + 1:])
        if any(values):
            result[tuple(row[:len(columns) + 1])] = values
    return result


def _recount(session: Session, columns: tuple[str, ...], *,
             by_slot: bool = True) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Recount the messages per key and slot (the action id's slot), or per key over all slots,
    straight from the messages."""
    dialect = session.get_bind().dialect.name
    attrs = {"day": Message.created_day, "ref": func.coalesce(Message.ref, "")}
    keys = [attrs.get(c, getattr(Message, c, None)) for c in columns]
    if by_slot:
        keys.append(counts.slot_sql(Message.action_id, dialect))
    result: dict[tuple[Any, ...], list[int]] = {}
    for *key, status, n in session.execute(select(*keys, Message.status, func.count())
                                           .group_by(*keys, Message.status)):
        result.setdefault(tuple(key), [0] * len(STATUSES))[STATUSES.index(status)] += n
    return {k: tuple(v) for k, v in result.items()}


def assert_every_slot_exact(session: Session) -> None:
    """Each roll-up's row of each slot holds exactly the messages of its slot's actions."""
    session.expire_all()
    for rollup in counts.ROLLUPS:
        assert _rows(session, rollup.table, rollup.key) == _recount(session, rollup.key), rollup.table.name
    per_slot = dict(session.execute(select(counts.ACTION_COUNTS.c.slot, func.sum(counts.ACTION_COUNTS.c.n))
                                    .group_by(counts.ACTION_COUNTS.c.slot)).all())
    dialect = session.get_bind().dialect.name
    slot = counts.slot_sql(Action.id, dialect)
    assert {k: int(v) for k, v in per_slot.items() if v} == dict(
        session.execute(select(slot, func.count()).select_from(Action).group_by(slot)).all())


def _run(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_concurrent_submits_spread_over_slots_and_every_slot_is_exact(app: Flask) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        rng = random.Random(n)
        try:
            with app.app_context(), db.session_scope(app) as s:
                for i in range(8):
                    when = datetime.combine(DAY0 + timedelta(days=i % 2), clock(12), UTC)
                    submit(s, _submission(f"p{n}-{i}@example.org", rng.choice(HOUSE), rng.choice(REFS)),
                           now=when)
        except BaseException as exc:
            errors.append(exc)

    _run([threading.Thread(target=work, args=(n,)) for n in range(6)])
    assert not errors, errors
    with db.session_scope(app) as s:
        slots = set(s.execute(select(counts.CAMPAIGN_COUNTS.c.slot)).scalars())
        # PostgreSQL spreads the 48 actions over many slots; SQLite keeps one.
        expected = counts.slots_for(s.get_bind().dialect.name)
        assert len(slots) == min(48, expected)
        assert_every_slot_exact(s)
        rng = random.Random(9)
        for message in s.execute(select(Message).order_by(Message.id).limit(40)).scalars().all():
            set_status(s, message, rng.choice(STATUSES))  # each move stays in its action's slot
        s.commit()
        assert_every_slot_exact(s)
        assert_counts_match(s, random.Random(1), rounds=10)
        before = {r.table.name: _rows(s, r.table, r.key) for r in counts.ROLLUPS}
        counts.rebuild(s, CAMPAIGN, spread_from=DAY0)  # a rebuild writes the very rows the live writers did
        s.expire_all()
        assert {r.table.name: _rows(s, r.table, r.key) for r in counts.ROLLUPS} == before
        assert stats.totals(s, CAMPAIGN)["actions"] == 48


def test_slot_for_is_the_action_ids_slot_on_postgresql_and_zero_on_sqlite() -> None:
    assert [counts.slot_for(i, "postgresql") for i in (0, 1, 63, 64, 130)] == [0, 1, 63, 0, 2]
    assert {counts.slot_for(i, "sqlite") for i in range(200)} == {0}
    assert counts.slot_for(None, "postgresql") == 0


def test_a_status_change_lands_in_its_actions_slot_even_when_the_row_was_compacted(app: Flask) -> None:
    """Rows migrated into slot 0 (migration 0008) have no row in the message's slot: the move creates it."""
    with app.app_context(), db.session_scope(app) as s:
        submit(s, _submission("m@example.org", HOUSE[0], None))
        for table in (*(r.table for r in counts.ROLLUPS), counts.ACTION_COUNTS, counts.CAMPAIGN_COUNTS):
            s.execute(table.update().values(slot=0))  # as the migration leaves them
        s.commit()
        message = s.execute(select(Message).where(Message.channel == "smtp").limit(1)).scalar_one()
        set_status(s, message, "delivered")
        s.commit()
        assert stats.totals(s, CAMPAIGN)["delivered"] == 1
        slots = set(s.execute(select(counts.MEMBER_COUNTS.c.slot)).scalars())
        assert slots == ({0} if s.get_bind().dialect.name == "sqlite" else {0, message.action_id % 64})
        assert_counts_match(s, random.Random(2), rounds=5)


def _rebuild_loop(app: Flask, stop: threading.Event, errors: list[BaseException], done: list[int]) -> None:
    try:
        with db.session_scope(app) as s:
            while not stop.is_set():
                counts.rebuild(s, CAMPAIGN)
                # Folds nothing today's, but takes the same locks and runs its statements while writers run.
                counts.compact(s, CAMPAIGN)
                done.append(1)
                time.sleep(0.01)
    except BaseException as exc:
        errors.append(exc)


def test_rebuild_in_a_loop_during_submits_and_workers_ends_exact(app: Flask) -> None:
    """Issue 13 finding 2: a rebuild on a live PostgreSQL made negative counters and deadlocked submits."""
    errors: list[BaseException] = []
    stop = threading.Event()
    rebuilds: list[int] = []

    def submitter(n: int) -> None:
        rng = random.Random(n)
        try:
            with app.app_context(), db.session_scope(app) as s:
                for _ in range(10):
                    # Some repeats: de-duplication drops them while the rebuild runs.
                    submit(s, _submission(f"p{rng.randrange(30)}@example.org", rng.choice(HOUSE),
                                          rng.choice(REFS)))
        except BaseException as exc:
            errors.append(exc)

    def worker(n: int) -> None:
        # As the delivery worker and "I sent it" do: several status moves per transaction, rows locked.
        rng = random.Random(100 + n)
        try:
            with db.session_scope(app) as s:
                for _ in range(12):
                    rows = s.execute(select(Message).order_by(Message.id).limit(4).offset(rng.randrange(8))
                                     .with_for_update()).scalars().all()
                    for message in rows:
                        set_status(s, message, rng.choice(STATUSES))
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    rebuilder = threading.Thread(target=_rebuild_loop, args=(app, stop, errors, rebuilds))
    rebuilder.start()
    _run([*(threading.Thread(target=submitter, args=(n,)) for n in range(4)),
          *(threading.Thread(target=worker, args=(n,)) for n in range(2))])
    stop.set()
    rebuilder.join()
    assert not errors, errors
    assert len(rebuilds) >= 2
    with db.session_scope(app) as s:
        assert_every_slot_exact(s)
        assert_counts_match(s, random.Random(3), rounds=15)
        for rollup in counts.ROLLUPS:  # no counter below zero anywhere
            assert all(v >= 0 for row in _rows(s, rollup.table, rollup.key).values() for v in row)


def test_adopting_a_rollup_takes_its_table_into_the_lock_order() -> None:
    """A new roll-up joins with one call: after the message roll-ups, before constituents and totals."""
    rollup = counts.Rollup(counts.MEMBER_COUNTS.to_metadata(counts.MEMBER_COUNTS.metadata.__class__(),
                                                            name="extra"), ("campaign", "day"))
    saved_rollups, saved_order = list(counts.ROLLUPS), list(counts.LOCK_ORDER)
    try:
        counts.add_rollup(rollup)
        assert counts.ROLLUPS[-1] is rollup
        names = [t.name for t in counts.LOCK_ORDER]
        assert names.index("extra") == names.index("campaign_constituents") - 1
        assert names[-1] != "extra" and names[0] == "action_counts"
    finally:
        counts.ROLLUPS[:] = saved_rollups
        counts.LOCK_ORDER[:] = saved_order




def test_compact_folds_old_days_into_slot_0_and_keeps_every_sum(app: Flask) -> None:
    with app.app_context(), db.session_scope(app) as s:
        for i in range(12):
            when = datetime.combine(DAY0 + timedelta(days=i % 3), clock(12), UTC)
            submit(s, _submission(f"c{i}@example.org", HOUSE[i % 2], REFS[i % 3]), now=when)
        old = s.execute(select(Message).where(Message.created_day == DAY0).limit(1)).scalar_one()
        set_status(s, old, "delivered")
        s.commit()
        rows_before = s.execute(select(func.count()).select_from(counts.MESSAGE_COUNTS)).scalar_one()
        folded = counts.compact(s, CAMPAIGN, before=DAY0 + timedelta(days=2))
        postgres = s.get_bind().dialect.name == "postgresql"
        assert (folded > 0) == postgres
        t = counts.MESSAGE_COUNTS.c
        old_slots = set(s.execute(select(t.slot).where(t.day < DAY0 + timedelta(days=2))).scalars())
        assert old_slots == {0}
        new_slots = set(s.execute(select(t.slot).where(t.day == DAY0 + timedelta(days=2))).scalars())
        assert len(new_slots) == (4 if postgres else 1)  # the last day stays spread
        rows_after = s.execute(select(func.count()).select_from(counts.MESSAGE_COUNTS)).scalar_one()
        assert rows_after < rows_before if postgres else rows_after == rows_before
        assert_counts_match(s, random.Random(4), rounds=10)
        # A move on a folded day lands in its action's slot again; the sums stay exact.
        another = s.execute(select(Message).where(Message.created_day == DAY0, Message.status != "delivered")
                            .limit(1)).scalar_one()
        set_status(s, another, "failed")
        s.commit()
        assert_counts_match(s, random.Random(5), rounds=10)
        assert counts.compact(s, CAMPAIGN, before=DAY0 + timedelta(days=2)) == (3 if postgres else 0)
        assert_counts_match(s, random.Random(6), rounds=5)
