"""Local days and hours: the campaign's time zone applied to what is counted (see actiontool.timezones).

Submits write `created_day` as the local day already; this module keeps the hour-of-day roll-up
(`action_hour_counts`, updated in the submit's transaction) and recomputes both from the base rows for
`actiontool stats --rebuild`, for instance after a campaign's time zone changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from actiontool.models import Action, Message
from actiontool.services import counts
from actiontool.services.transaction import transaction
from actiontool.timezones import local

HOUR_COUNTS: Table = counts.HOUR_COUNTS
_BATCH = 5000


def local_day_and_hour(at: datetime, time_zone: str) -> tuple[date, int]:
    """Return the local day and hour (0-23) an action made at `at` is counted under."""
    moment = local(at, time_zone)
    return moment.date(), moment.hour


def record_action_hour(session: Session, campaign: str, at: datetime, time_zone: str,
                       action_id: int | None = None) -> None:
    """Count one new action in its local day and hour, in the caller's transaction.

    In the action's roll-up slot (counts.slot_for), as the other roll-ups: one hour's row would otherwise be
    the hot row every submit of the campaign waits for on PostgreSQL. Readers sum the slots.
    """
    day, hour = local_day_and_hour(at, time_zone)
    dialect = session.get_bind().dialect.name
    session.execute(_hour_upsert(dialect), {"campaign": campaign, "day": day, "hour": hour,
                                            "slot": counts.slot_for(action_id, dialect)})


@lru_cache(maxsize=4)
def _hour_upsert(dialect: str) -> Any:
    """Return the dialect's upsert of one action into the hour roll-up, built once (a submit runs it)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(HOUR_COUNTS).values(campaign=bindparam("campaign"), day=bindparam("day"),
                                      hour=bindparam("hour"), slot=bindparam("slot"), n=1)
    return stmt.on_conflict_do_update(
        index_elements=["campaign", "day", "hour", "slot"], set_={"n": HOUR_COUNTS.c.n + stmt.excluded.n})


def by_hour(session: Session, campaign: str, date_from: date | None = None,
            date_to: date | None = None) -> list[int]:
    """Return the campaign's actions per local hour of the day (24 numbers), within the date range."""
    t = HOUR_COUNTS.c
    where = [t.campaign == campaign]
    if date_from:
        where.append(t.day >= date_from)
    if date_to:
        where.append(t.day <= date_to)
    hours = [0] * 24
    for hour, n in session.execute(select(t.hour, func.sum(t.n)).where(*where).group_by(t.hour)):
        hours[int(hour)] = int(n)
    return hours


def relocalise(session: Session, time_zone_of: Callable[[str], str], campaign: str | None = None) -> int:
    """Recompute `created_day` of actions and messages as local days and rebuild the hour roll-up; commit.

    Returns how many rows changed day. Run `counts.rebuild` afterwards so the day roll-ups follow.

    Exact while submits run: before it reads the actions it takes every count writer's tables as
    `counts.rebuild` does (`counts.lock_rollups`, hour roll-up included; SQLite's write lock is one), so a
    submit either committed before the read (its action and hour are in it) or adds its hour after the
    commit, to the rebuilt rows. The days are moved first, before the locks: a worker holds a message's
    row lock while it waits for the roll-ups at commit, so updating messages under the roll-up locks could
    deadlock with it. Moving a day touches no roll-up; `counts.rebuild` settles the day roll-ups.
    """
    changed = 0
    with transaction(session):
        for model in (Action, Message):
            changed += _relocalise_rows(session, model, time_zone_of, campaign)
        counts.lock_rollups(session)
        session.execute(delete(HOUR_COUNTS) if campaign is None
                        else delete(HOUR_COUNTS).where(HOUR_COUNTS.c.campaign == campaign))
        hours = _hours(session, time_zone_of, campaign)
        rows = [{"campaign": c, "day": d, "hour": h, "slot": 0, "n": n}
                for (c, d, h), n in sorted(hours.items())]
        for start in range(0, len(rows), _BATCH):
            session.execute(HOUR_COUNTS.insert(), rows[start:start + _BATCH])
    return changed


def _hours(session: Session, time_zone_of: Callable[[str], str],
           campaign: str | None) -> Counter[tuple[str, date, int]]:
    """Count actions per campaign, local day and local hour, from their UTC instants."""
    stmt = select(Action.campaign, Action.created_at)
    if campaign is not None:
        stmt = stmt.where(Action.campaign == campaign)
    zones: dict[str, str] = {}
    hours: Counter[tuple[str, date, int]] = Counter()
    for name, created_at in session.execute(stmt.execution_options(yield_per=_BATCH)):
        zone = zones.get(name) or zones.setdefault(name, time_zone_of(name))
        moment = local(created_at, zone)
        hours[(name, moment.date(), moment.hour)] += 1
    return hours


def _relocalise_rows(session: Session, model: Any, time_zone_of: Callable[[str], str],
                     campaign: str | None) -> int:
    """Set one table's created_day to the local day where it differs; return how many rows moved."""
    stmt = select(model.id, model.campaign, model.created_at, model.created_day).order_by(model.id)
    if campaign is not None:
        stmt = stmt.where(model.campaign == campaign)
    zones: dict[str, str] = {}
    updates: list[dict[str, Any]] = []
    for row_id, name, created_at, day in session.execute(stmt.execution_options(yield_per=_BATCH)).all():
        zone = zones.get(name) or zones.setdefault(name, time_zone_of(name))
        moment = local(created_at, zone)
        if moment.date() != day:
            updates.append({"row_id": row_id, "day": moment.date()})
    table: Table = model.__table__
    stmt_update = update(table).where(table.c.id == bindparam("row_id")).values(created_day=bindparam("day"))
    for start in range(0, len(updates), _BATCH):
        session.connection().execute(stmt_update, updates[start:start + _BATCH])
    return len(updates)
