"""The organizers' funnel: how many visits reached each step of a campaign, per day and per source.

Steps: the campaign page viewed, a ZIP looked up, the letter form shown (counted here) and letters
written (the campaign's actions, from `action_counts`, so bot submissions, which write no action, never
count). Nothing identifies a visitor: no cookie, no address, no id; only (campaign, day, ref, step) -> n.

Counting must not slow the public pages, so a step only adds to a counter in the web process's memory
(`FunnelBuffer`). The counts reach the database in one transaction per batch, written by `flush`: when a
process holds FLUSH_EVENTS counts, or its oldest unsaved count is FLUSH_SECONDS old (the web layer flushes
after the answer that crossed the line has been sent), when an organizer opens the funnel, and when the
process exits. Each batch adds to the rows with INSERT ... ON CONFLICT DO UPDATE SET n = n + k, which
the database applies atomically, so any number of processes add up exactly. A process killed without
exiting (SIGKILL, a crash) loses at most one batch of not yet written counts.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from actiontool.models import FunnelCount
from actiontool.services.counts import ACTION_COUNTS, _upsert_statement
from actiontool.services.transaction import transaction

FUNNEL_COUNTS: Table = FunnelCount.__table__  # type: ignore[assignment]
VIEWS, LOOKUPS, FORMS, WRITTEN = "views", "lookups", "forms", "written"
COUNTED_STEPS: tuple[str, ...] = (VIEWS, LOOKUPS, FORMS)  # counted in memory, stored in funnel_counts
STEPS: tuple[str, ...] = (*COUNTED_STEPS, WRITTEN)
FLUSH_EVENTS = 200  # counts a process holds before it writes them: one write per this many page views
FLUSH_SECONDS = 10.0  # ... or this long after the oldest unsaved count, whichever comes first

Key = tuple[str, date, str, str]  # campaign, day, ref ("" for none), step


class FunnelBuffer:
    """A process's unsaved funnel counts; thread-safe (gunicorn threads, the exit hook)."""

    def __init__(self, flush_events: int = FLUSH_EVENTS, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.flush_events = flush_events
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._counts: Counter[Key] = Counter()
        self._held = 0
        self._oldest: float | None = None

    def add(self, campaign: str, day: date, ref: str | None, step: str, *, now: float | None = None) -> bool:
        """Count one step; return True when the buffer should be written now."""
        if step not in COUNTED_STEPS:
            raise ValueError(f"step: one of {', '.join(COUNTED_STEPS)}")
        now = time.monotonic() if now is None else now
        with self._lock:
            self._counts[(campaign, day, ref or "", step)] += 1
            self._held += 1
            if self._oldest is None:
                self._oldest = now
            return self._held >= self.flush_events or now - self._oldest >= self.flush_seconds

    def take(self) -> Counter[Key]:
        """Return the unsaved counts and start afresh (the caller writes them, or puts them back)."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
            self._held, self._oldest = 0, None
        return counts

    def put_back(self, counts: Counter[Key]) -> None:
        """Keep counts whose write failed, to be written with the next batch."""
        with self._lock:
            self._counts.update(counts)
            self._held += sum(counts.values())
            if self._oldest is None:
                self._oldest = time.monotonic()

    def __len__(self) -> int:
        """Return how many counts wait to be written."""
        return self._held


def write_counts(session: Session, counts: Counter[Key]) -> None:
    """Add `counts` to funnel_counts in one transaction (rows in key order, so writers cannot deadlock)."""
    rows: dict[tuple[str, date, str], dict[str, Any]] = {}
    for (campaign, day, ref, step), n in counts.items():
        row = rows.setdefault((campaign, day, ref), {"campaign": campaign, "day": day, "ref": ref, "slot": 0,
                                                     **dict.fromkeys(COUNTED_STEPS, 0)})
        row[step] += n
    if not rows:
        return
    stmt = _upsert_statement(session.get_bind().dialect.name, FUNNEL_COUNTS,
                             ("campaign", "day", "ref", "slot"), tuple(sorted(COUNTED_STEPS)), ())
    with transaction(session):
        session.execute(stmt, [rows[key] for key in sorted(rows)])


def flush(session: Session, buffer: FunnelBuffer) -> int:
    """Write the buffer's counts; on failure keep them for the next flush and re-raise. Return how many."""
    counts = buffer.take()
    try:
        write_counts(session, counts)
    except Exception:
        buffer.put_back(counts)
        raise
    return sum(counts.values())


def _where(table: Table, campaign: str, date_from: date | None, date_to: date | None,
           ref: str | None) -> list[Any]:
    t = table.c
    where = [t.campaign == campaign]
    if date_from:
        where.append(t.day >= date_from)
    if date_to:
        where.append(t.day <= date_to)
    if ref is not None:
        where.append(t.ref == ref)
    return where


def funnel_by(session: Session, campaign: str, dim: str, *, date_from: date | None = None,
              date_to: date | None = None, ref: str | None = None) -> dict[Any, dict[str, int]]:
    """Return each step's count grouped by "day", "ref" or "all" (one row keyed None), under the filters.

    `ref` is the stored form ("" for visits without one). Letters written are the campaign's actions.
    """
    if dim not in ("day", "ref", "all"):
        raise ValueError("dim: day, ref or all")
    grouped = _funnel_grouped(session, campaign, () if dim == "all" else (dim,), date_from, date_to, ref)
    return {(key[0] if key else None): row for key, row in grouped.items()}


def written_by_day_and_ref(session: Session, campaign: str, *, date_from: date | None = None,
                           date_to: date | None = None, ref: str | None = None
                           ) -> dict[tuple[Any, ...], dict[str, int]]:
    """Return the funnel's last step (actions, from `action_counts`) by day × source, for
    `funnel_by_day_and_ref`. It changes only with the campaign's actions, so a caller may keep it as long
    as the campaign's counts are unchanged (the dashboard does); the page views before it change apart."""
    return _funnel_grouped(session, campaign, ("day", "ref"), date_from, date_to, ref, counted=False)


def funnel_by_day_and_ref(session: Session, campaign: str, *, date_from: date | None = None,
                          date_to: date | None = None, ref: str | None = None,
                          written: dict[tuple[Any, ...], dict[str, int]] | None = None
                          ) -> tuple[dict[date, dict[str, int]], dict[str, dict[str, int]]]:
    """Return `funnel_by` "day" and "ref" from one GROUP BY per table instead of one per table and grouping
    (`written`: `written_by_day_and_ref`'s answer, kept by the caller, instead of reading it again).

    The dashboard shows both (and their sum, the whole funnel); a day × source grouping has a few hundred
    rows, cheaper than scanning `action_counts` once per grouping."""
    by_day: dict[date, dict[str, int]] = {}
    by_ref: dict[str, dict[str, int]] = {}
    grouped = _funnel_grouped(session, campaign, ("day", "ref"), date_from, date_to, ref,
                              written=written is None)
    for key, counts in (written or {}).items():
        target = grouped.setdefault(key, dict.fromkeys(STEPS, 0))
        target[WRITTEN] += counts[WRITTEN]
    for (day, source), counts in grouped.items():
        for result, key in ((by_day, day), (by_ref, source)):
            target = result.setdefault(key, dict.fromkeys(STEPS, 0))
            for step, n in counts.items():
                target[step] += n
    return by_day, by_ref


def _funnel_grouped(session: Session, campaign: str, dims: tuple[str, ...], date_from: date | None,
                    date_to: date | None, ref: str | None, *, counted: bool = True,
                    written: bool = True) -> dict[tuple[Any, ...], dict[str, int]]:
    """Return each step's count grouped by the `dims` columns (an empty tuple: one row keyed ()): the
    counted steps (`funnel_counts`) and the letters written (`action_counts`), or only one of them."""
    result: dict[tuple[Any, ...], dict[str, int]] = {}

    def row(key: tuple[Any, ...]) -> dict[str, int]:
        return result.setdefault(key, dict.fromkeys(STEPS, 0))

    tables = (((FUNNEL_COUNTS, COUNTED_STEPS),) if counted else ()) + (((ACTION_COUNTS, ("n",)),) if written
                                                                       else ())
    for table, columns in tables:
        t = table.c
        groups = [t[dim] for dim in dims]
        sums = [func.coalesce(func.sum(t[c]), 0) for c in columns]
        stmt = select(*groups, *sums).where(*_where(table, campaign, date_from, date_to, ref))
        if groups:
            stmt = stmt.group_by(*groups)
        for values in session.execute(stmt):
            key = tuple(values[:len(groups)])
            numbers = [int(v) for v in values[len(groups):]]
            target = row(key)
            if table is ACTION_COUNTS:
                target[WRITTEN] += numbers[0]
            else:
                for step, n in zip(columns, numbers, strict=True):
                    target[step] += n
    return result


def drop_off(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Return the steps in order with their count, share of page views and share of the step before (%)."""
    rows = []
    previous: int | None = None
    first = counts.get(VIEWS, 0)
    for step in STEPS:
        n = counts.get(step, 0)
        rows.append({"step": step, "n": n,
                     "of_views": round(100 * n / first, 1) if first else None,
                     "of_previous": round(100 * n / previous, 1) if previous else None})
        previous = n
    return rows


def steps_total(rows: Iterable[dict[str, int]]) -> dict[str, int]:
    """Return the step counts of several rows added up."""
    total = dict.fromkeys(STEPS, 0)
    for r in rows:
        for step in STEPS:
            total[step] += r.get(step, 0)
    return total
