"""Retry all that match at scale (issue 15): the roll-ups moved set-based (`counts.move_statuses`) stay exact
per key and per slot, touch rows in the order every other writer does, and a retry running while submits
and workers change the same campaign neither deadlocks nor drifts (SQLite, PostgreSQL)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, func, select, update

from actiontool import db
from actiontool.models import DELIVERED, FAILED, QUEUED, STATUSES, Message, utcnow
from actiontool.services import counts
from actiontool.services.outbox import set_status
from actiontool.services.retries import FailedFilter, retry_matching
from tests.factories import MEMBERS
from tests.services.test_count_slots import _recount, _rows
from tests.services.test_retries import assert_counts_exact
from tests.web.organizer.test_organizer_web import SLUG

HOUSE = [m for m in MEMBERS if m.chamber == "house"]
REFS = [None, "tv", "nurses"]
OLD_DAY = date(2026, 3, 2)


def _days() -> list[date]:
    """Today and yesterday (spread over slots) and two older days (kept in slot 0 after compaction)."""
    today = utcnow().date()
    return [today, today - timedelta(days=1), today - timedelta(days=4), OLD_DAY]


def assert_every_key_exact(session: Any) -> None:
    """Each roll-up, summed over slots per key, equals a recount of the messages per key."""
    session.expire_all()
    for rollup in counts.ROLLUPS:
        summed: dict[tuple[Any, ...], list[int]] = {}
        for key, row in _rows(session, rollup.table, rollup.key).items():
            total = summed.setdefault(key[:-1], [0] * len(STATUSES))
            for i, v in enumerate(row):
                total[i] += v
        recount = _recount(session, rollup.key, by_slot=False)
        assert {k: tuple(v) for k, v in summed.items() if any(v)} == recount, rollup.table.name


def test_a_retry_of_many_keys_moves_each_row_where_a_rebuild_puts_it(app: Flask,
                                                                    writer: Callable[..., int]) -> None:
    """Old days' moves land in slot 0 (as compact and rebuild keep them), recent days' in their action's."""
    rng = random.Random(5)
    days = _days()
    with db.session_scope(app) as s:
        for i in range(40):
            writer(s, SLUG, f"r{i}@example.org", rng.choice(HOUSE), day=days[i % len(days)],
                   ref=rng.choice(REFS), channel=rng.choice(("cwc", "smtp")), status=FAILED)
        s.execute(update(Message).values(last_error="CWC answered 503 (outage)"))
        s.commit()
        failed = s.execute(select(func.count()).select_from(Message)).scalar_one()
        counts.rebuild(s, SLUG)  # every row where a live campaign has it after its daily compaction
        outcome = retry_matching(s, SLUG, FailedFilter(reason="outage"), actor="t")
        assert (outcome.retried, outcome.purged, outcome.accepted) == (failed, 0, 0)
        s.expire_all()
        moved = {r.table.name: _rows(s, r.table, r.key) for r in counts.ROLLUPS}
        assert_every_key_exact(s)
        counts.rebuild(s, SLUG)
        s.expire_all()
        assert {r.table.name: _rows(s, r.table, r.key) for r in counts.ROLLUPS} == moved
        if counts.slots_for(s.get_bind().dialect.name) > 1:  # old days in slot 0, recent ones spread
            slots = Counter((row[1] >= days[1], row[-1] == 0) for row in moved["message_counts"])
            assert slots[(False, False)] == 0 and slots[(True, False)] > 0
    assert_counts_exact(app)


def test_bulk_moves_touch_rows_in_the_order_every_other_writer_does(app: Flask) -> None:
    """PostgreSQL sorts the rows of each INSERT ... SELECT; they must come in `_sort_key`'s order, the one
    submits and single status changes use, or two writers could each hold a row the other waits for."""
    columns = counts.ROLLUPS[0].slotted_key  # campaign, day, bioguide, ref, channel, slot
    keys = [(campaign, day, bioguide, ref, "cwc", slot)
            for campaign in ("c", "C", "b-2")
            for day in (date(2026, 3, 9), date(2026, 3, 10))
            for bioguide in ("A000001", "a000001", "Z000009")
            for ref in ("", "B", "a", "é", "z", "tv")
            for slot in (0, 9, 10, 63)]
    shuffled = keys[:]
    random.Random(1).shuffle(shuffled)
    types = {"day": Date(), "slot": Integer()}
    table = Table("lock_order_keys", MetaData(), *(Column(c, types.get(c, String(20))) for c in columns),
                  prefixes=["TEMPORARY"])
    with db.session_scope(app) as s:
        table.create(s.connection())
        s.execute(table.insert(), [dict(zip(columns, key, strict=True)) for key in shuffled])
        dialect = s.get_bind().dialect.name
        ordered = [tuple(row) for row in s.execute(select(*table.c).order_by(
            *counts._lock_order(table, columns, dialect)))]
    assert ordered == sorted(keys, key=counts._sort_key)


def test_retries_while_submits_and_workers_run_end_exact(app: Flask, writer: Callable[..., int]) -> None:
    """A retry holds many roll-up rows at once; submits and workers touching the same rows must neither
    deadlock with it (a deadlock fails one of them) nor lose a move."""
    days = _days()
    with db.session_scope(app) as s:
        for i in range(24):
            writer(s, SLUG, f"seed{i}@example.org", HOUSE[i % 6], day=days[i % len(days)],
                   ref=REFS[i % 3], status=FAILED)
        counts.rebuild(s, SLUG)
        ids = list(s.execute(select(Message.id)).scalars())
    errors: list[BaseException] = []
    stop = threading.Event()
    retried: list[int] = []

    def submitter(n: int) -> None:
        rng = random.Random(n)
        try:
            with db.session_scope(app) as s:
                for i in range(8):  # the same members and days as the failed letters: the same rows
                    writer(s, SLUG, f"s{n}-{i}@example.org", HOUSE[rng.randrange(6)],
                           day=rng.choice(days[:2]), ref=rng.choice(REFS),
                           status=rng.choice((QUEUED, FAILED)))
        except BaseException as exc:
            errors.append(exc)

    def worker(n: int) -> None:
        # As the delivery worker does: one message per transaction, its row locked, then its status moved.
        rng = random.Random(100 + n)
        try:
            with db.session_scope(app) as s:
                for _ in range(25):
                    message = s.execute(select(Message).where(Message.id == rng.choice(ids))
                                        .with_for_update()).scalar_one()
                    set_status(s, message, rng.choice((FAILED, FAILED, DELIVERED, QUEUED)))
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    def retrier() -> None:
        try:
            with db.session_scope(app) as s:
                while not stop.is_set():
                    retried.append(retry_matching(s, SLUG, FailedFilter(), actor="t").retried)
        except BaseException as exc:
            errors.append(exc)

    background = threading.Thread(target=retrier)
    background.start()
    pool = [*(threading.Thread(target=submitter, args=(n,)) for n in range(3)),
            *(threading.Thread(target=worker, args=(n,)) for n in range(2))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    stop.set()
    background.join()
    assert not errors, errors
    assert len(retried) >= 2 and sum(retried) > 0
    with db.session_scope(app) as s:
        # Per key, not per slot: a move of an old day's letter may land in another slot than its count
        # (a worker's in its action's, a retry's in slot 0, where compaction keeps the day), as after
        # every compaction; readers only ever sum the slots.
        assert_every_key_exact(s)
    assert_counts_exact(app)
