"""Roll-up counts: exact tallies kept in step with the outbox so the dashboard never scans every message.

Three hooks keep them exact, each inside the caller's transaction:
- `record_new_messages` after messages are inserted (only the rows actually inserted),
- `record_new_action` after an action is inserted,
- `record_status_change` from `services.outbox.set_status`;
`record_submit` does the first two, and the action's local hour, for a submit: on PostgreSQL in one call
of the database function `count_submit` (models.COUNT_SUBMIT_FUNCTION), which runs the same upserts.
Every change is an `INSERT ... ON CONFLICT DO UPDATE SET n = n + k`, which the database applies
atomically, so concurrent writers never lose an increment on SQLite or PostgreSQL. Rows are touched in a
fixed order (the tables in LOCK_ORDER, rows sorted by key) so writers cannot deadlock.

Slots. Every roll-up row carries a slot number, the last column of its primary key. A transaction adds
only to the slot of the action it counts (`slot_for`: the action id modulo SLOTS on PostgreSQL), and a
message's later status changes go to the same slot, derived from its action id; readers sum the slots.
On PostgreSQL a row lock is held until commit, so one row per campaign (or per senator and day) made every
submit of a campaign wait for the one before it; with 64 slots concurrent submits hold different rows.
Consecutive action ids land in consecutive slots, which spreads concurrent submits better than a random
pick. SQLite has one writer at a time, so slots gain it nothing: it keeps slot 0 and the fewest rows.
Sums stay exact whatever slot a change lands in (readers never look at one slot alone), so changing
SLOTS, or rows migrated into slot 0, never makes a count wrong.

`rebuild` recomputes everything from the base rows in a few set-based statements, holding locks that
every count writer needs (see `lock_rollups`), so it stays exact while submits and workers run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    FromClause,
    Insert,
    String,
    Table,
    case,
    cast,
    delete,
    event,
    func,
    inspect,
    literal,
    select,
    text,
    true,
)
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
    ActionHourCount,
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
# The hour-of-day roll-up (written by services.local_days, which needs the campaign's time zone).
HOUR_COUNTS: Table = ActionHourCount.__table__  # type: ignore[assignment]
SOURCE_COUNTS: Table = SourceDayCount.__table__  # type: ignore[assignment]


SLOTS = 64  # slots per roll-up key on PostgreSQL (issue 17: 0.62-0.68x of no counter at 32 writers)


def slots_for(dialect: str) -> int:
    """Return how many slots the dialect's writers spread over: SLOTS on PostgreSQL, 1 on SQLite."""
    return SLOTS if dialect == "postgresql" else 1


def slot_for(action_id: int | None, dialect: str) -> int:
    """Return the roll-up slot of everything counted for one action (its messages, and itself)."""
    return 0 if action_id is None else action_id % slots_for(dialect)


def slot_sql(action_id: Any, dialect: str, day: Any = None, spread_from: date | None = None) -> Any:
    """Return `slot_for` as an SQL expression over an action-id column, for set-based rebuilds.

    With `day` and `spread_from`, rows of days before `spread_from` go to slot 0, as `compact` leaves them.
    """
    n = slots_for(dialect)
    if n == 1:
        return literal(0)
    if day is None or spread_from is None:
        return action_id % n
    return case((day >= spread_from, action_id % n), else_=0)


# Slots multiply the rows a reader sums: a key written live gets up to SLOTS rows. Only today's rows are
# hot (submits write today's day; workers move a few older letters), so `compact` folds the slots of older
# days back into slot 0 (`actiontool stats --compact`, daily) and the dashboard reads about one row per key
# for all but the last SPREAD_DAYS days.
SPREAD_DAYS = 2


def compact_before(today: date) -> date:
    """Return the first day whose rows stay spread over slots (today and yesterday)."""
    return today - timedelta(days=SPREAD_DAYS - 1)


@dataclass(frozen=True)
class Rollup:
    """One message roll-up table: its key columns and the columns that depend on the key.

    `fields` maps a roll-up column to the Message attribute it is read from where the names differ;
    `sql` maps it to the SQL expression over Message that `rebuild` groups by (the attribute by default).
    The table must end its primary key with `slot` (models.slot_column).
    """

    table: Table
    key: tuple[str, ...]
    extra: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    sql: Mapping[str, Any] = field(default_factory=dict)

    @property
    def slotted_key(self) -> tuple[str, ...]:
        """Return the primary key: the key columns, then the slot."""
        return (*self.key, "slot")


_MESSAGE_FIELDS = {"day": "created_day"}
_MESSAGE_SQL = {"day": Message.created_day, "ref": func.coalesce(Message.ref, "")}

# Finest first. Each view reads the smallest roll-up that has the columns it groups or filters by
# (services.stats.rollup_for); every hook updates all of them, always in this order, so no deadlocks.
ROLLUPS: list[Rollup] = [
    Rollup(MESSAGE_COUNTS, ("campaign", "day", "bioguide", "ref", "channel"),
           ("state", "district", "chamber", "member_name"), _MESSAGE_FIELDS, _MESSAGE_SQL),
    Rollup(MEMBER_COUNTS, ("campaign", "day", "bioguide", "channel"),
           ("state", "district", "chamber", "member_name"), _MESSAGE_FIELDS, _MESSAGE_SQL),
    Rollup(SOURCE_COUNTS, ("campaign", "day", "state", "ref", "channel"), (), _MESSAGE_FIELDS, _MESSAGE_SQL),
]

# Every table a count writer may lock, in the order writers lock them: a submit counts its action, then
# its messages (ROLLUPS in order), its constituents, its local hour (local_days.record_action_hour) and,
# at commit, the campaign's totals; other modules' roll-ups (services.packet_counts, applied at commit
# after the totals) come after. `rebuild` and `local_days.relocalise` lock them all in this order.
LOCK_ORDER: list[Table] = [ACTION_COUNTS, *(r.table for r in ROLLUPS), CONSTITUENTS, HOUR_COUNTS,
                           CAMPAIGN_COUNTS]
# Functions (session, campaign) that rebuild another module's roll-ups inside `rebuild`'s transaction.
_REBUILDERS: list[Callable[[Session, str | None], None]] = []


def add_rollup(rollup: Rollup) -> None:
    """Adopt one more message roll-up: counted by every hook, summed over slots, rebuilt, locked in order.

    Call at import time of the module that defines it. Its status columns are models.STATUSES.
    """
    ROLLUPS.append(rollup)
    LOCK_ORDER.insert(LOCK_ORDER.index(CONSTITUENTS), rollup.table)


def add_rebuilt_tables(tables: Iterable[Table], rebuild_fn: Callable[[Session, str | None], None]) -> None:
    """Have `rebuild` lock `tables` (after the message roll-ups) and call `rebuild_fn` in its transaction."""
    LOCK_ORDER.extend(t for t in tables if t not in LOCK_ORDER)
    if rebuild_fn not in _REBUILDERS:
        _REBUILDERS.append(rebuild_fn)


def lock_rollups(session: Session) -> None:
    """Take every count writer's tables for a rebuild, in LOCK_ORDER (PostgreSQL; SQLite's write lock is one).

    EXCLUSIVE mode lets readers read and makes every writer wait at its first roll-up statement: a writer
    that already holds a roll-up row is waited for (its messages then show in the rebuild's reads), and one
    that has only written messages cannot count them before the rebuild commits (its messages are invisible
    to the rebuild, and its increments land on the rebuilt rows). Writers take these tables in the same
    order, so a rebuild cannot deadlock with them.
    """
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(t.name for t in LOCK_ORDER)
        session.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))


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


@lru_cache(maxsize=512)
def _multirow_upsert(dialect: str, table: Table, keys: tuple[str, ...], add: tuple[str, ...],
                     touch: tuple[str, ...]) -> Any:
    """Return `_upsert_statement` with RETURNING, so a list of rows goes out as ONE multi-row statement.

    SQLAlchemy sends an executemany of an INSERT ... RETURNING as `INSERT ... VALUES (...), (...)`
    ("insertmanyvalues"); without RETURNING, psycopg would run one statement per row. The rows keep
    the order given (every caller sorts them by key), and PostgreSQL upserts VALUES rows in that
    order, so the lock order stays the same as with one statement per row.
    """
    stmt = _upsert_statement(dialect, table, keys, add, touch)
    return stmt.returning(literal(1))


def upsert_rows(session: Session, table: Table, keys: tuple[str, ...], add: tuple[str, ...],
                touch: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Upsert `rows` (sorted by key, each key once) adding `add` and setting `touch`, in one statement."""
    if rows:
        session.execute(_multirow_upsert(_dialect(session), table, keys, add, touch), rows).close()


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _message_value(message: Any, column: str, rollup: Rollup) -> Any:
    """Return the roll-up column's value for a message ("" for a missing ref)."""
    value = _get(message, rollup.fields.get(column, column))
    return (value or "") if column == "ref" else value


def _sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
    """Return the order rows are touched in: every writer sorts the same way (None and dates as text)."""
    return tuple(str(part) for part in key)


def record_new_messages(session: Session, messages: Iterable[Any]) -> None:
    """Count freshly inserted messages (ORM objects or RETURNING rows) in the caller's transaction."""
    messages = list(messages)
    dialect = _dialect(session)
    slots = [slot_for(_get(m, "action_id"), dialect) for m in messages]
    for rollup in ROLLUPS:
        # One multi-row upsert per roll-up, in key order so concurrent writers touch rows in the same order.
        upsert_rows(session, rollup.table, rollup.slotted_key, _STATUS_COLUMNS, (),
                    _rollup_rows(messages, slots, rollup))
    for (campaign, slot), (add, constituent_keys) in _per_campaign(messages, slots).items():
        new_constituents = 0
        for constituent_key in constituent_keys:
            # RETURNING, not rowcount: drivers disagree on rowcount for a skipped INSERT.
            returned = session.execute(_constituent_insert(dialect),
                                       {"campaign": campaign, "constituent_key": constituent_key})
            new_constituents += len(returned.all())
        if new_constituents:
            add["constituents"] = new_constituents
        _defer_campaign(session, campaign, slot, add)


def _rollup_rows(messages: list[Any], slots: list[int], rollup: Rollup) -> list[dict[str, Any]]:
    """Return one roll-up's rows for freshly inserted messages: summed per key and slot, in key order.

    Every status column is present (zeros included), so all rows share one statement.
    """
    groups: dict[tuple[Any, ...], Counter[str]] = {}
    attrs: dict[tuple[Any, ...], dict[str, Any]] = {}
    for message, slot in zip(messages, slots, strict=True):
        key = (*(_message_value(message, c, rollup) for c in rollup.key), slot)
        groups.setdefault(key, Counter())[_get(message, "status")] += 1
        attrs.setdefault(key, {c: _message_value(message, c, rollup) for c in rollup.extra})
    return [{**dict(zip(rollup.slotted_key, key, strict=True)), **attrs[key],
             **{status: groups[key][status] for status in STATUSES}}
            for key in sorted(groups, key=_sort_key)]


def _per_campaign(messages: list[Any], slots: list[int]
                  ) -> dict[tuple[str, int], tuple[Counter[str], list[str]]]:
    """Return per (campaign, slot), in that order: the messages per status, and their constituents sorted."""
    adds: dict[tuple[str, int], Counter[str]] = {}
    keys_seen: dict[tuple[str, int], set[str]] = {}
    for message, slot in zip(messages, slots, strict=True):
        where = (_get(message, "campaign"), slot)
        adds.setdefault(where, Counter())[_get(message, "status")] += 1
        keys_seen.setdefault(where, set()).add(_get(message, "constituent_key"))
    return {where: (adds[where], sorted(k for k in keys_seen[where] if k)) for where in sorted(adds)}


@lru_cache(maxsize=4)
def _constituent_insert(dialect: str) -> Any:
    """Return the INSERT of a campaign's constituent that skips one already counted (built once)."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CONSTITUENTS)
    return stmt.on_conflict_do_nothing().returning(CONSTITUENTS.c.campaign)


def record_new_action(session: Session, action: Any) -> None:
    """Count a freshly inserted action (ORM object or RETURNING row) in the caller's transaction."""
    slot = slot_for(_get(action, "id"), _dialect(session))
    values = _action_row(action, slot)
    n = values.pop("n")
    _upsert_adding(session, ACTION_COUNTS, tuple(values), values, {"n": n})
    _defer_campaign(session, values["campaign"], slot, {"actions": n})


def _action_row(action: Any, slot: int) -> dict[str, Any]:
    """Return the action_counts row of one new action: its key, then n = 1."""
    return {
        "campaign": _get(action, "campaign"), "day": _get(action, "created_day"),
        "state": _get(action, "state") or "", "district_label": _get(action, "district_label") or "",
        "ref": _get(action, "ref") or "", "slot": slot, "n": 1,
    }


# The message roll-ups the database function `count_submit` (models.COUNT_SUBMIT_FUNCTION) writes.
SUBMIT_FUNCTION_ROLLUPS: tuple[str, ...] = ("message_counts", "message_counts_by_member",
                                            "message_counts_by_source")
# Off only to compare the function with the statements it replaces (tests, benchmarks).
USE_SUBMIT_FUNCTION = True


def record_submit(session: Session, action: Any, messages: Iterable[Any], *, at: datetime,
                  time_zone: str) -> None:
    """Count a submit: its action, its freshly inserted messages and its local hour, in its transaction.

    The same rows as `record_new_action`, `record_new_messages` and `local_days.record_action_hour`, and
    the campaign's totals, which those defer to commit. On PostgreSQL they go out as ONE call of the
    database function `count_submit`, which runs the seven upserts one after the other in LOCK_ORDER (so
    no new deadlock: the same rows, in the same order, as the statements it replaces) with plans it keeps
    for the session. Issue 17: at 32 concurrent writers the statements' own overhead (a round trip each,
    and without prepared statements a parse and plan each) cost more than the rows they change.

    The campaign's totals row is written at once, not at commit, so the submit must be the transaction's
    last count change (it is: the submit commits next). Where the function does not apply (SQLite, a
    roll-up adopted with `add_rollup` that the function does not know, or count changes already collected
    in the transaction, which must come before the totals row) the hooks run one by one.
    """
    from actiontool.services import local_days

    messages = list(messages)
    dialect = _dialect(session)
    campaign, action_id = _get(action, "campaign"), _get(action, "id")
    if not _submit_function_applies(session, dialect, action_id, messages):
        record_new_action(session, action)
        record_new_messages(session, messages)
        local_days.record_action_hour(session, campaign, at, time_zone, action_id)
        return
    slot = slot_for(action_id, dialect)
    slots = [slot] * len(messages)
    (add, constituent_keys), = _per_campaign(messages, slots).values()
    day, hour = local_days.local_day_and_hour(at, time_zone)
    rows: dict[str, Any] = {
        "action_counts": _action_row(action, slot),
        **{r.table.name: _rollup_rows(messages, slots, r) for r in ROLLUPS},
        "campaign_constituents": [{"campaign": campaign, "constituent_key": k} for k in constituent_keys],
        "action_hour_counts": {"campaign": campaign, "day": day, "hour": hour, "slot": slot, "n": 1},
        "campaign_counts": {"campaign": campaign, "slot": slot, "actions": 1,
                            "updated_at": utcnow().astimezone(UTC).replace(tzinfo=None),
                            **{status: add[status] for status in STATUSES}},
    }
    session.execute(_COUNT_SUBMIT, {"rows": json.dumps(rows, default=_json_value)}).close()


_COUNT_SUBMIT = text("SELECT count_submit(CAST(:rows AS jsonb))")


def _json_value(value: Any) -> str:
    """Return a date or timestamp as the ISO text PostgreSQL reads back into its column type."""
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _submit_function_applies(session: Session, dialect: str, action_id: Any, messages: list[Any]) -> bool:
    """Return True when `count_submit` can count this submit exactly and in lock order."""
    return (USE_SUBMIT_FUNCTION and dialect == "postgresql" and bool(messages)
            and tuple(r.table.name for r in ROLLUPS) == SUBMIT_FUNCTION_ROLLUPS
            and all(_get(m, "action_id") == action_id for m in messages)
            and len({_get(m, "campaign") for m in messages}) == 1
            and not any(session.info.get(_PENDING, {}).values()))


def record_status_change(session: Session, message: Message, new: str) -> None:
    """Count one persisted message's move to status `new` in its roll-up rows (applied at commit).

    The old status is read from the database, locking the row, not taken from the object: a session that
    keeps objects across commits may hold a status another worker has changed since, and counting from
    that would drift. The object is told the status it read, so the ORM writes the new one. The move
    lands in the slot of the message's action, the slot its insert was counted in.
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
    slot = slot_for(message.action_id, _dialect(session))
    pending = _pending(session)
    for index, rollup in enumerate(ROLLUPS):
        key = (index, (*(_message_value(message, c, rollup) for c in rollup.key), slot))
        entry = pending["rollups"].setdefault(key, {"add": Counter(), "extra": {
            c: _message_value(message, c, rollup) for c in rollup.extra}})
        entry["add"][old] -= 1
        entry["add"][new] += 1
    _defer_campaign(session, message.campaign, slot, {old: -1, new: 1})


def record_status_changes(session: Session, rows: Iterable[Any], old: str, new: str) -> None:
    """Count messages one UPDATE ... RETURNING moved from `old` to `new`, in the caller's transaction.

    The UPDATE matched `status = old` and holds the rows' locks, so `old` is what each row held: no read is
    needed per message. The rows need the roll-up keys' fields and `action_id` (its slot). The moves are
    summed per roll-up row and slot and applied at commit like every status change (`_apply_pending`:
    upserts in lock order, the campaign's totals last), so 10,000 messages make one statement per distinct
    roll-up row, not one per message.
    """
    if old == new or old not in STATUSES or new not in STATUSES:
        return
    dialect = _dialect(session)
    pending = _pending(session)
    by_campaign: Counter[tuple[str, int]] = Counter()
    for row in rows:
        slot = slot_for(_get(row, "action_id"), dialect)
        for index, rollup in enumerate(ROLLUPS):
            key = (index, (*(_message_value(row, c, rollup) for c in rollup.key), slot))
            entry = pending["rollups"].setdefault(key, {"add": Counter(), "extra": {
                c: _message_value(row, c, rollup) for c in rollup.extra}})
            entry["add"][old] -= 1
            entry["add"][new] += 1
        by_campaign[(_get(row, "campaign"), slot)] += 1
    for (campaign, slot), n in by_campaign.items():
        _defer_campaign(session, campaign, slot, {old: -n, new: n})


def move_statuses(session: Session, moved: FromClause, old: str, new: str) -> int:
    """Count the messages in `moved` as moved from `old` to `new`, set-based, in the caller's transaction.

    `moved` is a table or subquery with one row per moved message and its roll-up fields under the
    Message attribute names (campaign, created_day, bioguide, ref, channel, state, district, chamber,
    member_name) and `action_id`; the caller has already moved (and on PostgreSQL locked) those messages.
    Each roll-up gets ONE statement, INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE, so the
    messages never travel to Python: 10,000 of them cost no more client time than ten (issue 15: the
    per-row loop of `record_status_changes` took seconds of CPU, and held the transaction idle meanwhile).
    The rows are upserted in lock order (tables in ROLLUPS order, rows sorted as `_sort_key` sorts them:
    `_lock_order`) and the campaign's totals are applied at commit, last, as for every status change, so
    concurrent submits and workers cannot deadlock with it.

    Slots: a move of today's or yesterday's messages lands in its action's slot, as a single status change
    does; a move of an older day's lands in slot 0, where `compact` keeps those days (and `rebuild` puts
    them). With 64 slots nearly every moved message has a key of its own, so spreading old days would
    create (or update) up to 64 rows per key that the next compaction folds again; slot 0 holds one row
    per key, already there, and no submit or worker writes it (submits count today; a worker's move goes
    to its action's slot), so a retry holds no row they wait for. Sums over slots stay exact either way.
    Returns how many messages were counted.
    """
    if old == new or old not in STATUSES or new not in STATUSES:
        return 0
    dialect = _dialect(session)
    slot = slot_sql(moved.c.action_id, dialect, moved.c.created_day, compact_before(utcnow().date()))
    for rollup in ROLLUPS:
        # The keys are computed in a subquery and grouped by its columns: PostgreSQL would not see that a
        # slot expression with bound parameters in ORDER BY is the one in GROUP BY.
        fields = moved.c
        keyed = select(*(_moved_sql(fields, rollup, c).label(c) for c in (*rollup.key, *rollup.extra)),
                       slot.label("slot")).subquery("keyed")
        keys = [keyed.c[c] for c in rollup.slotted_key]
        amounts = [(-func.count() if s == old else func.count() if s == new else literal(0)).label(s)
                   for s in STATUSES]
        rows = (select(*keys, *(func.max(keyed.c[c]).label(c) for c in rollup.extra), *amounts)
                .where(true())  # SQLite: a WHERE, or it reads ON CONFLICT as a join's ON
                .group_by(*keys).order_by(*_lock_order(keyed, rollup.slotted_key, dialect)))
        session.execute(_from_select_upsert(dialect, rollup, (old, new), rows))
    moved_n = 0
    totals = select(moved.c.campaign, slot.label("slot")).subquery("totals")
    for campaign, slot_n, n in session.execute(select(totals.c.campaign, totals.c.slot, func.count())
                                               .group_by(totals.c.campaign, totals.c.slot)):
        _defer_campaign(session, campaign, int(slot_n), {old: -int(n), new: int(n)})
        moved_n += int(n)
    return moved_n


def _moved_sql(fields: Any, rollup: Rollup, column: str) -> Any:
    """Return a roll-up column's value over `move_statuses`' rows, as `_message_value` reads it."""
    value = fields[rollup.fields.get(column, column)]
    return func.coalesce(value, "") if column == "ref" else value


def _lock_order(keyed: Any, columns: tuple[str, ...], dialect: str) -> list[Any]:
    """Return ORDER BY terms that sort roll-up keys as `_sort_key` does: each part compared as text.

    Python compares str by code point; PostgreSQL's "C" collation compares UTF-8 bytes, the same order
    (a database collation such as en_US could sort "b" before "C"). The slot is compared as text too
    ("10" before "9"), and a day as its ISO text, which is the day's own order. SQLite compares text by
    its bytes already (and its one writer needs no order).
    """
    terms = []
    for name in columns:
        column = keyed.c[name]
        if name == "day":
            terms.append(column)
            continue
        text_value = cast(column, String) if name == "slot" else column
        terms.append(text_value.collate("C") if dialect == "postgresql" else text_value)
    return terms


def _from_select_upsert(dialect: str, rollup: Rollup, add: tuple[str, ...], rows: Any) -> Any:
    """Return INSERT INTO the roll-up ... `rows` ON CONFLICT adding the `add` counters to the row's."""
    stmt: Insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(rollup.table)
    stmt = stmt.from_select([*rollup.slotted_key, *rollup.extra, *STATUSES], rows)
    set_ = {name: rollup.table.c[name] + stmt.excluded[name] for name in add}  # type: ignore[attr-defined]
    return stmt.on_conflict_do_update(index_elements=list(rollup.slotted_key), set_=set_)  # type: ignore


# Lock order. Every transaction touches roll-up rows in one global order (LOCK_ORDER's tables, rows in key
# order within each) and the campaign's totals rows last, so concurrent submits and workers on PostgreSQL
# cannot deadlock: inserts upsert their message roll-ups at once (sorted), status changes are collected and
# applied sorted just before commit, and every campaign-row change is collected and applied after those.
_PENDING = "actiontool.counts.pending"


def _pending(session: Session) -> dict[str, dict[Any, Any]]:
    """Return the session's not yet applied changes."""
    return session.info.setdefault(_PENDING, {"rollups": {}, "campaigns": {}})


def _defer_campaign(session: Session, campaign: str, slot: int, add: Mapping[str, int]) -> None:
    """Add to the campaign's totals row of `slot` at commit."""
    _pending(session)["campaigns"].setdefault((campaign, slot), Counter()).update(add)


@event.listens_for(Session, "before_commit")
def _apply_pending(session: Session) -> None:
    """Apply the collected status moves and campaign totals, in lock order, in the committing transaction.

    Status moves are upserts, not UPDATEs: a slot with no row yet for the key (rows migrated into slot 0,
    or a rebuild with another SLOTS) gets one, holding the move, so no move is ever lost.
    """
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    for index in range(len(ROLLUPS)):
        rollup = ROLLUPS[index]
        keys = sorted((k for i, k in pending["rollups"] if i == index), key=_sort_key)
        rows = []
        for key in keys:
            entry = pending["rollups"][(index, key)]
            if any(entry["add"].values()):
                rows.append({**dict(zip(rollup.slotted_key, key, strict=True)), **entry["extra"],
                             **{status: entry["add"][status] for status in STATUSES}})
        upsert_rows(session, rollup.table, rollup.slotted_key, _STATUS_COLUMNS, (), rows)
    now = utcnow()
    rows = []
    for campaign, slot in sorted(pending["campaigns"]):
        add = pending["campaigns"][(campaign, slot)]
        if any(add.values()):
            rows.append({"campaign": campaign, "slot": slot, "updated_at": now,
                         **{name: add[name] for name in _CAMPAIGN_COLUMNS}})
    upsert_rows(session, CAMPAIGN_COUNTS, ("campaign", "slot"), _CAMPAIGN_COLUMNS, ("updated_at",), rows)


_CAMPAIGN_COLUMNS: tuple[str, ...] = tuple(sorted(("actions", "constituents", *STATUSES)))
_STATUS_COLUMNS: tuple[str, ...] = tuple(sorted(STATUSES))


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    """Drop changes collected in a transaction that rolled back."""
    session.info.pop(_PENDING, None)


def _status_sum(status: str) -> Any:
    """Return SUM(CASE status WHEN s THEN 1 ELSE 0 END) over messages."""
    return func.coalesce(func.sum(case((Message.status == status, 1), else_=0)), 0)


def rebuild(session: Session, campaign: str | None = None, *, spread_from: date | None = None) -> None:
    """Recompute every roll-up (of one campaign, or all) from the messages and actions, and commit.

    Exact while submits and workers run: the transaction first takes every count writer's tables
    (`lock_rollups`; on SQLite the write lock taken at BEGIN does the same), so no count change commits
    between its reads, and changes of transactions still open are applied after it, to the rebuilt rows.
    Rows of days from `spread_from` (by default `compact_before(today)`) are rebuilt into the slots live
    writers use (`slot_for`), older days into slot 0, as `compact` leaves them: the rows a live campaign
    has after its daily compaction. Roll-ups adopted with `add_rebuilt_tables` (the packet roll-ups) are
    rebuilt in the same transaction.
    """
    def scoped(stmt: Any, column: Any) -> Any:
        return stmt if campaign is None else stmt.where(column == campaign)

    from actiontool.services import packet_counts  # noqa: F401 - adopts its roll-ups into this rebuild

    dialect = _dialect(session)
    spread_from = spread_from or compact_before(utcnow().date())
    with transaction(session):
        lock_rollups(session)
        for table in (*(r.table for r in ROLLUPS), ACTION_COUNTS, CAMPAIGN_COUNTS, CONSTITUENTS):
            session.execute(scoped(delete(table), table.c.campaign))
        message_slot = slot_sql(Message.action_id, dialect, Message.created_day, spread_from)
        for rollup in ROLLUPS:
            keys: list[Any] = [_message_sql(rollup, c) for c in rollup.key]
            keys.append(message_slot)
            extras = (func.max(_message_sql(rollup, c)) for c in rollup.extra)
            rows = scoped(select(*keys, *extras, *(_status_sum(s) for s in STATUSES)), Message.campaign
                          ).group_by(*keys)
            session.execute(rollup.table.insert().from_select(
                [*rollup.slotted_key, *rollup.extra, *STATUSES], rows))
        action_ref = func.coalesce(Action.ref, "")
        label = func.coalesce(Action.district_label, "")
        action_keys = (Action.campaign, Action.created_day, Action.state, label, action_ref,
                       slot_sql(Action.id, dialect, Action.created_day, spread_from))
        action_rows = scoped(select(*action_keys, func.count()), Action.campaign).group_by(*action_keys)
        session.execute(ACTION_COUNTS.insert().from_select(
            ["campaign", "day", "state", "district_label", "ref", "slot", "n"], action_rows))
        session.execute(CONSTITUENTS.insert().from_select(
            ["campaign", "constituent_key"],
            scoped(select(Message.campaign, Message.constituent_key), Message.campaign).distinct()))
        _rebuild_campaign_rows(session, campaign)
        for rebuild_more in _REBUILDERS:
            rebuild_more(session, campaign)


def _message_sql(rollup: Rollup, column: str) -> Any:
    """Return the SQL expression over Message that a roll-up column is grouped by in `rebuild`."""
    return rollup.sql.get(column, getattr(Message, rollup.fields.get(column, column)))


def _rebuild_campaign_rows(session: Session, campaign: str | None) -> None:
    """Fill campaign_counts from the freshly rebuilt roll-ups, per slot (constituents all in slot 0)."""
    now = utcnow()
    totals: dict[tuple[str, int], dict[str, Any]] = {}

    def row(name: str, slot: int) -> dict[str, Any]:
        return totals.setdefault((name, slot), {"campaign": name, "slot": slot, "actions": 0,
                                                "constituents": 0,
                                                **dict.fromkeys(STATUSES, 0), "updated_at": now})

    m = MESSAGE_COUNTS.c
    where = [] if campaign is None else [m.campaign == campaign]
    sums = [func.coalesce(func.sum(m[s]), 0) for s in STATUSES]
    for name, slot, *counts in session.execute(select(m.campaign, m.slot, *sums).where(*where)
                                               .group_by(m.campaign, m.slot)):
        row(name, slot).update(zip(STATUSES, (int(c) for c in counts), strict=True))
    a = ACTION_COUNTS.c
    where = [] if campaign is None else [a.campaign == campaign]
    for name, slot, n in session.execute(select(a.campaign, a.slot, func.sum(a.n)).where(*where)
                                         .group_by(a.campaign, a.slot)):
        row(name, slot)["actions"] = int(n)
    where = [] if campaign is None else [CONSTITUENTS.c.campaign == campaign]
    for name, n in session.execute(select(CONSTITUENTS.c.campaign, func.count()).where(*where)
                                   .group_by(CONSTITUENTS.c.campaign)):
        row(name, 0)["constituents"] = int(n)
    if totals:
        session.execute(CAMPAIGN_COUNTS.insert(), [totals[k] for k in sorted(totals)])


def compact(session: Session, campaign: str | None = None, *, before: date | None = None) -> int:
    """Fold the slots of days before `before` (default `compact_before(today)`) into slot 0; commit.

    Returns how many rows were folded. Exact under concurrent writers: it takes the rebuild's locks, so no
    writer holds a row it folds; a later change to an old day lands in its action's slot again and is
    folded next time. A no-op on SQLite, which writes slot 0 only.
    """
    dialect = _dialect(session)
    if slots_for(dialect) == 1:
        return 0
    before = before or compact_before(utcnow().date())
    tables = [(r.table, r.key, r.extra, STATUSES) for r in ROLLUPS]
    tables.append((ACTION_COUNTS, ("campaign", "day", "state", "district_label", "ref"), (), ("n",)))
    folded = 0
    with transaction(session):
        lock_rollups(session)
        for table, key, extra, counters in tables:
            keys = ", ".join(key)
            scope = "" if campaign is None else " AND campaign = :campaign"
            picked = ", ".join([*(f"MAX({c})" for c in extra), *(f"SUM({c})" for c in counters)])
            adds = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in counters)
            # One statement per table: the deleted rows' counts, summed per key, added to slot 0.
            result = session.execute(text(
                f"WITH gone AS (DELETE FROM {table.name} WHERE day < :before AND slot <> 0{scope} "
                "RETURNING *), "
                f"folded AS (INSERT INTO {table.name} ({keys}, slot, {', '.join((*extra, *counters))}) "
                f"SELECT {keys}, 0, {picked} FROM gone GROUP BY {keys} "
                f"ON CONFLICT ({keys}, slot) DO UPDATE SET {adds} RETURNING 1) "
                "SELECT (SELECT count(*) FROM gone)"), {"before": before, "campaign": campaign})
            folded += int(result.scalar_one())
    return folded


def campaign_totals(session: Session, campaign: str) -> dict[str, Any]:
    """Return the campaign's totals summed over its slots (zeros, no timestamp when nothing was counted)."""
    c = CAMPAIGN_COUNTS.c
    names = ("actions", "constituents", *STATUSES)
    row = session.execute(select(func.count(), *(func.coalesce(func.sum(c[n]), 0) for n in names),
                                 func.max(c.updated_at)).where(c.campaign == campaign)).one()
    if not row[0]:
        return {"actions": 0, "constituents": 0, **dict.fromkeys(STATUSES, 0), "updated_at": None}
    updated_at = row[-1]
    if updated_at is not None and updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)  # MAX() over a column reads back without its type
    return {**{n: int(v) for n, v in zip(names, row[1:-1], strict=True)}, "updated_at": updated_at}


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
