"""Roll-up counts: exact tallies kept in step with the outbox so the dashboard never scans every message.

Three hooks keep them exact, each inside the caller's transaction:
- `record_new_messages` after messages are inserted (only the rows actually inserted),
- `record_new_action` after an action is inserted,
- `record_status_change` from `services.outbox.set_status`.
Every change is an `UPDATE ... SET n = n + k` or an `INSERT ... ON CONFLICT DO UPDATE`, which the database
applies atomically, so concurrent writers never lose an increment on SQLite or PostgreSQL. Rows are
touched in a fixed order (message counts by key, then the campaign's row) so writers cannot deadlock.
`rebuild` recomputes everything from the base rows in a few set-based statements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Insert, Table, case, delete, event, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from actiontool.models import (
    DELIVERED,
    FAILED,
    HANDED_OFF,
    STATUSES,
    Action,
    ActionCount,
    CampaignConstituent,
    CampaignCount,
    MemberDayCount,
    Message,
    MessageCount,
    SourceDayCount,
    utcnow,
)
from actiontool.services.transaction import transaction

MESSAGE_COUNTS: Table = MessageCount.__table__  # type: ignore[assignment]
ACTION_COUNTS: Table = ActionCount.__table__  # type: ignore[assignment]
CAMPAIGN_COUNTS: Table = CampaignCount.__table__  # type: ignore[assignment]
CONSTITUENTS: Table = CampaignConstituent.__table__  # type: ignore[assignment]

MEMBER_COUNTS: Table = MemberDayCount.__table__  # type: ignore[assignment]
SOURCE_COUNTS: Table = SourceDayCount.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Rollup:
    """One message roll-up table: its key columns and the columns that depend on the key."""

    table: Table
    key: tuple[str, ...]
    extra: tuple[str, ...] = ()


# Finest first. Each view reads the smallest roll-up that has the columns it groups or filters by
# (services.stats.rollup_for); every hook updates all three, always in this order, so no deadlocks.
ROLLUPS: tuple[Rollup, ...] = (
    Rollup(MESSAGE_COUNTS, ("campaign", "day", "bioguide", "ref", "channel"),
           ("state", "district", "chamber", "member_name")),
    Rollup(MEMBER_COUNTS, ("campaign", "day", "bioguide", "channel"),
           ("state", "district", "chamber", "member_name")),
    Rollup(SOURCE_COUNTS, ("campaign", "day", "state", "ref", "channel")),
)
_MESSAGE_FIELD = {"day": "created_day"}  # roll-up column -> Message attribute, where the names differ


def _insert(session: Session, table: Table) -> Any:
    """Return the dialect's INSERT (both SQLite's and PostgreSQL's know ON CONFLICT)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"roll-up counts need SQLite or PostgreSQL, not {name}")


def _get(row: Any, name: str) -> Any:
    """Read a field from an ORM object or a mapping (Core INSERT ... RETURNING rows)."""
    if isinstance(row, Mapping):
        return row.get(name)
    mapping = getattr(row, "_mapping", None)  # a Row from RETURNING
    if mapping is not None:
        return mapping.get(name)
    return getattr(row, name)


def _upsert_adding(session: Session, table: Table, keys: tuple[str, ...], values: dict[str, Any],
                   add: dict[str, int], touch: dict[str, Any] | None = None) -> None:
    """Insert a roll-up row, or add `add` to its counters when the key exists (and set `touch`)."""
    params = {**values, **add, **(touch or {})}
    stmt = _upsert_statement(session.get_bind().dialect.name, table, tuple(keys), tuple(sorted(add)),
                             tuple(sorted(touch or {})))
    session.execute(stmt, params)


@lru_cache(maxsize=512)
def _upsert_statement(dialect: str, table: Table, keys: tuple[str, ...], add: tuple[str, ...],
                      touch: tuple[str, ...]) -> Any:
    """Build an upsert once per shape; values come as parameters, so the compiled form is reused.

    Building `insert(...).excluded` anew for every row cost more than the database work itself (about
    half of a submit's CPU time in the load test).
    """
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"roll-up counts need SQLite or PostgreSQL, not {dialect}")
    stmt: Insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    set_ = {name: table.c[name] + stmt.excluded[name] for name in add}  # type: ignore[attr-defined]
    set_.update({name: stmt.excluded[name] for name in touch})  # type: ignore[attr-defined]
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)  # type: ignore[attr-defined]


def _message_value(message: Any, column: str) -> Any:
    """Return the roll-up column's value for a message ("" for a missing ref)."""
    value = _get(message, _MESSAGE_FIELD.get(column, column))
    return (value or "") if column == "ref" else value


def record_new_messages(session: Session, messages: Iterable[Any]) -> None:
    """Count freshly inserted messages (ORM objects or RETURNING rows) in the caller's transaction."""
    messages = list(messages)
    for rollup in ROLLUPS:
        groups: dict[tuple[Any, ...], Counter[str]] = {}
        attrs: dict[tuple[Any, ...], dict[str, Any]] = {}
        for message in messages:
            key = tuple(_message_value(message, c) for c in rollup.key)
            groups.setdefault(key, Counter())[_get(message, "status")] += 1
            attrs.setdefault(key, {c: _message_value(message, c) for c in rollup.extra})
        # One executemany per roll-up (every status column present, zeros included, so all rows share
        # one statement), in key order so concurrent writers touch rows in the same order.
        rows = [{**dict(zip(rollup.key, key, strict=True)), **attrs[key],
                 **{status: groups[key][status] for status in STATUSES}}
                for key in sorted(groups, key=lambda k: tuple(str(part) for part in k))]
        if rows:
            stmt = _upsert_statement(session.get_bind().dialect.name, rollup.table, tuple(rollup.key),
                                     tuple(sorted(STATUSES)), ())
            session.execute(stmt, rows)
    per_campaign: dict[str, Counter[str]] = {}
    keys_seen: dict[str, set[str]] = {}
    for message in messages:
        campaign = _get(message, "campaign")
        per_campaign.setdefault(campaign, Counter())[_get(message, "status")] += 1
        keys_seen.setdefault(campaign, set()).add(_get(message, "constituent_key"))
    for campaign in sorted(per_campaign):
        new_constituents = 0
        for constituent_key in sorted(k for k in keys_seen[campaign] if k):
            stmt = _insert(session, CONSTITUENTS).values(campaign=campaign, constituent_key=constituent_key)
            # RETURNING, not rowcount: drivers disagree on rowcount for a skipped INSERT.
            returned = stmt.on_conflict_do_nothing().returning(CONSTITUENTS.c.campaign)
            new_constituents += len(session.execute(returned).all())
        add = dict(per_campaign[campaign])
        if new_constituents:
            add["constituents"] = new_constituents
        _defer_campaign(session, campaign, add)


def record_new_action(session: Session, action: Any) -> None:
    """Count a freshly inserted action (ORM object or RETURNING row) in the caller's transaction."""
    campaign = _get(action, "campaign")
    values = {
        "campaign": campaign, "day": _get(action, "created_day"), "state": _get(action, "state") or "",
        "district_label": _get(action, "district_label") or "", "ref": _get(action, "ref") or "",
    }
    _upsert_adding(session, ACTION_COUNTS, tuple(values), values, {"n": 1})
    _defer_campaign(session, campaign, {"actions": 1})


def record_status_change(session: Session, message: Message, new: str) -> None:
    """Count one persisted message's move to status `new` in its roll-up rows (applied at commit).

    The old status is read from the database, locking the row, not taken from the object: a session that
    keeps objects across commits may hold a status another worker has changed since, and counting from
    that would drift. The object is told the status it read, so the ORM writes the new one.
    """
    if new not in STATUSES:
        return
    state = inspect(message)
    if state.transient or state.pending:
        return  # not inserted yet: record_new_messages will count it with its final status
    old = session.execute(select(Message.status).where(Message.id == message.id).with_for_update()
                          ).scalar_one()
    set_committed_value(message, "status", old)
    if old == new or old not in STATUSES:
        return
    pending = _pending(session)
    for index, rollup in enumerate(ROLLUPS):
        key = (index, tuple(_message_value(message, c) for c in rollup.key))
        changes = pending["rollups"].setdefault(key, Counter())
        changes[old] -= 1
        changes[new] += 1
    _defer_campaign(session, message.campaign, {old: -1, new: 1})


def record_status_changes(session: Session, rows: Iterable[Any], old: str, new: str) -> None:
    """Count messages one UPDATE ... RETURNING moved from `old` to `new`, in the caller's transaction.

    The UPDATE matched `status = old` and holds the rows' locks, so `old` is what each row held: no read
    is needed per message. The roll-up rows are updated at once, one executemany per roll-up in the global
    lock order (ROLLUPS order, then key order), and the campaign's totals row at commit, last, as for
    every writer: services.retries queues 10,000 failed messages this way in well under a second, where
    one UPDATE per roll-up row at commit took seconds.
    """
    if old == new or old not in STATUSES or new not in STATUSES:
        return
    moved: Counter[tuple[int, tuple[Any, ...]]] = Counter()
    by_campaign: Counter[str] = Counter()
    # Plain dicts and field lists worked out once: per-field lookups on 10,000 rows cost more than the SQL.
    fields = [[_MESSAGE_FIELD.get(c, c) for c in rollup.key] for rollup in ROLLUPS]
    for row in rows:
        values = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
        if values.get("ref") is None:
            values["ref"] = ""  # the roll-ups count a missing ref as ""
        for index, names in enumerate(fields):
            moved[(index, tuple(values[name] for name in names))] += 1
        by_campaign[values["campaign"]] += 1
    connection = session.connection()
    for index, rollup in enumerate(ROLLUPS):
        # ISO dates and strings: the same order as _apply_pending's (its keys compared as text).
        keys = sorted(key for i, key in moved if i == index)
        if not keys:
            continue
        if connection.dialect.name == "postgresql":
            _move_postgresql(connection, rollup, old, new, keys, [moved[(index, key)] for key in keys])
            continue
        # SQLite: dates as ISO text, as SQLAlchemy writes them.
        params = [{**{c: v.isoformat() if isinstance(v, date) else v
                      for c, v in zip(rollup.key, key, strict=True)}, "n": moved[(index, key)]}
                  for key in keys]
        connection.exec_driver_sql(_move_sql(connection.dialect.paramstyle, rollup, old, new), params)
    for campaign, n in by_campaign.items():
        _defer_campaign(session, campaign, {old: -n, new: n})


def _move_postgresql(connection: Any, rollup: Rollup, old: str, new: str, keys: list[tuple[Any, ...]],
                     ns: list[int]) -> None:
    """Move the counts of many roll-up rows in two statements: lock them in key order, then one UPDATE.

    The keys travel as arrays (unnest), so 10,000 rows cost two round trips instead of 10,000. The rows are
    locked first with ORDER BY ... FOR UPDATE in the global lock order (byte order for text, as Python
    sorts), so a concurrent worker, which locks its rows in that order too, cannot deadlock with this.
    """
    columns = rollup.key
    casts = {c: "date[]" if isinstance(rollup.table.c[c].type, Date) else "text[]" for c in columns}
    source = (f"unnest({', '.join(f'%({c})s::{casts[c]}' for c in columns)}, %(n)s::int[]) "
              f"AS v({', '.join(columns)}, n)")
    match = " AND ".join(f"t.{c} = v.{c}" for c in columns)
    order = ", ".join(f"t.{c}" if casts[c] == "date[]" else f't.{c} COLLATE "C"' for c in columns)
    params: dict[str, Any] = {c: [key[i] for key in keys] for i, c in enumerate(columns)}
    params["n"] = ns
    table = rollup.table.name
    connection.exec_driver_sql(f"SELECT 1 FROM {table} t JOIN {source} ON {match} ORDER BY {order} "
                               "FOR UPDATE OF t", params)
    connection.exec_driver_sql(f"UPDATE {table} t SET {old} = t.{old} - v.n, {new} = t.{new} + v.n "
                               f"FROM {source} WHERE {match}", params)


@lru_cache(maxsize=64)
def _move_sql(paramstyle: str, rollup: Rollup, old: str, new: str) -> str:
    """Return the UPDATE that moves n counts of one roll-up row from `old` to `new`, for the driver.

    Driver-level executemany: building SQLAlchemy parameters for 10,000 rows cost more than the SQL.
    `old` and `new` are statuses (column names checked against STATUSES by the caller).
    """
    def mark(name: str) -> str:
        return f"%({name})s" if paramstyle == "pyformat" else f":{name}"

    where = " AND ".join(f"{column} = {mark(column)}" for column in rollup.key)
    return (f"UPDATE {rollup.table.name} SET {old} = {old} - {mark('n')}, {new} = {new} + {mark('n')} "
            f"WHERE {where}")


# Lock order. Every transaction touches roll-up rows in one global order (ROLLUPS order, then key order)
# and the campaign's totals row last, so concurrent submits and workers on PostgreSQL cannot deadlock:
# inserts upsert their message roll-ups at once (sorted), status changes are collected and applied sorted
# just before commit, and every campaign-row change is collected and applied after those.
_PENDING = "actiontool.counts.pending"


def _pending(session: Session) -> dict[str, dict[Any, Counter[str]]]:
    """Return the session's not yet applied changes."""
    return session.info.setdefault(_PENDING, {"rollups": {}, "campaigns": {}})


def _defer_campaign(session: Session, campaign: str, add: Mapping[str, int]) -> None:
    """Add to the campaign's totals row at commit."""
    _pending(session)["campaigns"].setdefault(campaign, Counter()).update(add)


@event.listens_for(Session, "before_commit")
def _apply_pending(session: Session) -> None:
    """Apply the collected status moves and campaign totals, in lock order, in the committing transaction."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    for index, key in sorted(pending["rollups"], key=lambda k: (k[0], tuple(str(p) for p in k[1]))):
        changes = {status: n for status, n in pending["rollups"][(index, key)].items() if n}
        if changes:
            rollup = ROLLUPS[index]
            t = rollup.table.c
            where = [t[c] == v for c, v in zip(rollup.key, key, strict=True)]
            session.execute(update(rollup.table).where(*where)
                            .values({status: t[status] + n for status, n in changes.items()}))
    for campaign in sorted(pending["campaigns"]):
        add = {name: n for name, n in pending["campaigns"][campaign].items() if n}
        if add:
            now = utcnow()
            _upsert_adding(session, CAMPAIGN_COUNTS, ("campaign",), {"campaign": campaign, "updated_at": now},
                           add, touch={"updated_at": now})


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    """Drop changes collected in a transaction that rolled back."""
    session.info.pop(_PENDING, None)


def _status_sum(status: str) -> Any:
    """Return SUM(CASE status WHEN s THEN 1 ELSE 0 END) over messages."""
    return func.coalesce(func.sum(case((Message.status == status, 1), else_=0)), 0)


def rebuild(session: Session, campaign: str | None = None) -> None:
    """Recompute every roll-up (of one campaign, or all) from the messages and actions, and commit."""
    def scoped(stmt: Any, column: Any) -> Any:
        return stmt if campaign is None else stmt.where(column == campaign)

    with transaction(session):
        for table in (*(r.table for r in ROLLUPS), ACTION_COUNTS, CAMPAIGN_COUNTS, CONSTITUENTS):
            session.execute(scoped(delete(table), table.c.campaign))
        message_columns = {"day": Message.created_day, "ref": func.coalesce(Message.ref, "")}
        for rollup in ROLLUPS:
            keys: list[Any] = [message_columns[c] if c in message_columns else getattr(Message, c)
                               for c in rollup.key]
            rows = scoped(select(*keys, *(func.max(getattr(Message, c)) for c in rollup.extra),
                                 *(_status_sum(s) for s in STATUSES)), Message.campaign).group_by(*keys)
            session.execute(rollup.table.insert().from_select([*rollup.key, *rollup.extra, *STATUSES], rows))
        action_ref = func.coalesce(Action.ref, "")
        label = func.coalesce(Action.district_label, "")
        action_rows = scoped(select(Action.campaign, Action.created_day, Action.state, label, action_ref,
                                    func.count()), Action.campaign).group_by(
            Action.campaign, Action.created_day, Action.state, label, action_ref)
        session.execute(ACTION_COUNTS.insert().from_select(
            ["campaign", "day", "state", "district_label", "ref", "n"], action_rows))
        session.execute(CONSTITUENTS.insert().from_select(
            ["campaign", "constituent_key"],
            scoped(select(Message.campaign, Message.constituent_key), Message.campaign).distinct()))
        _rebuild_campaign_rows(session, campaign)


def _rebuild_campaign_rows(session: Session, campaign: str | None) -> None:
    """Fill campaign_counts from the freshly rebuilt roll-ups (small tables, so plain Python is fine)."""
    now = utcnow()
    totals: dict[str, dict[str, Any]] = {}

    def row(name: str) -> dict[str, Any]:
        return totals.setdefault(name, {"campaign": name, "actions": 0, "constituents": 0,
                                        **dict.fromkeys(STATUSES, 0), "updated_at": now})

    where = [] if campaign is None else [MESSAGE_COUNTS.c.campaign == campaign]
    sums = [func.coalesce(func.sum(MESSAGE_COUNTS.c[s]), 0) for s in STATUSES]
    for name, *counts in session.execute(select(MESSAGE_COUNTS.c.campaign, *sums).where(*where)
                                         .group_by(MESSAGE_COUNTS.c.campaign)):
        row(name).update(zip(STATUSES, (int(c) for c in counts), strict=True))
    where = [] if campaign is None else [ACTION_COUNTS.c.campaign == campaign]
    for name, n in session.execute(select(ACTION_COUNTS.c.campaign, func.sum(ACTION_COUNTS.c.n)).where(*where)
                                   .group_by(ACTION_COUNTS.c.campaign)):
        row(name)["actions"] = int(n)
    where = [] if campaign is None else [CONSTITUENTS.c.campaign == campaign]
    for name, n in session.execute(select(CONSTITUENTS.c.campaign, func.count()).where(*where)
                                   .group_by(CONSTITUENTS.c.campaign)):
        row(name)["constituents"] = int(n)
    if totals:
        session.execute(CAMPAIGN_COUNTS.insert(), list(totals.values()))


def campaign_totals(session: Session, campaign: str) -> dict[str, Any]:
    """Return the campaign's totals row as a dict (zeros and no timestamp when nothing was counted)."""
    row = session.execute(select(CampaignCount).where(CampaignCount.campaign == campaign)
                          .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        return {"actions": 0, "constituents": 0, **dict.fromkeys(STATUSES, 0), "updated_at": None}
    return {"actions": row.actions, "constituents": row.constituents,
            **{s: getattr(row, s) for s in STATUSES}, "updated_at": row.updated_at}


# The three counts, one meaning each, wherever a number is shown (pages, embed, API, dashboard, CLI).
# written:   every message a constituent wrote, whatever became of it, except those that failed;
# sent:      the office has it by someone's word: a channel or the organization delivered it, or the
#            constituent says they sent it themselves (handed_off);
# delivered: a channel or an office packet delivered it (the tool's own word, not the constituent's).
WRITTEN_STATUSES: tuple[str, ...] = tuple(s for s in STATUSES if s != FAILED)
SENT_STATUSES: tuple[str, ...] = (DELIVERED, HANDED_OFF)
DELIVERED_STATUSES: tuple[str, ...] = (DELIVERED,)
MEANINGS: dict[str, tuple[str, ...]] = {
    "written": WRITTEN_STATUSES, "sent": SENT_STATUSES, "delivered": DELIVERED_STATUSES,
}


def count_of(meaning: str, by_status: Mapping[str, Any]) -> int:
    """Return the written, sent or delivered count of per-status counts (missing statuses count 0)."""
    return sum(int(by_status.get(s) or 0) for s in MEANINGS[meaning])


def meanings(by_status: Mapping[str, Any]) -> dict[str, int]:
    """Return {"written", "sent", "delivered"} of per-status counts."""
    return {meaning: count_of(meaning, by_status) for meaning in MEANINGS}


def public_message_count(totals: Mapping[str, Any]) -> int:
    """Return the `messages` of the public count: the written count (every message except failed ones)."""
    return count_of("written", totals)


def shown_count(session: Session, campaign: str, show: str) -> int:
    """Return the count a campaign's public counter shows: its written or its sent count."""
    return count_of(show, campaign_totals(session, campaign))
