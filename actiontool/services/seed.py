"""Synthetic sends for benchmarks and demos: `actiontool dev seed SLUG --messages N`.

Realistic shape, not real people: actions spread over states in proportion to their House seats, over
days with a launch spike and a decay, over partner refs with a long tail; one message to the House member
and one to each senator; statuses that depend on age and channel; days and hours local to the campaign's
time zone. Rows go in through the driver's bulk path (COPY on PostgreSQL, one prepared executemany on
SQLite), then the roll-ups are recomputed from them in one set-based pass (counts.rebuild), so they agree
exactly with a recount; the hour-of-day roll-up is added from the seed's own tally.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from actiontool.districts import district_label
from actiontool.models import Action
from actiontool.services import counts, local_days
from actiontool.services.transaction import transaction
from actiontool.timezones import DEFAULT_TIME_ZONE, local_day, zone

REFS: tuple[str, ...] = ("ohio-parents", "nurses-union", "faith-coalition", "recovery-network", "newsletter",
                         "facebook", "twitter", "sheriffs-assoc", "pta-national", "veterans", "students",
                         "local-news")
BATCH = 5000


class SeedError(ValueError):
    """The seed request cannot be carried out (bad count, no members)."""


@dataclass(frozen=True, slots=True)
class SeedMember:
    """The few member fields a synthetic message needs."""

    bioguide: str
    name: str
    title: str
    chamber: str
    state: str
    district: int | None


def members_from_dataset(dataset: Any) -> list[SeedMember]:
    """Return seed members from a districts Dataset (its sitting members)."""
    return [SeedMember(m.bioguide, m.name, m.title, m.chamber, m.state, m.district)
            for m in dataset.members()]


def _weighted_days(first: date, days: int) -> tuple[list[date], list[float]]:
    """Return the campaign's days and their weights: a launch spike, a decay, and a mid-campaign push."""
    weights = [1.0 / (1 + i * 0.15) + (1.5 if i == days // 2 else 0.0) for i in range(days)]
    return [first + timedelta(days=i) for i in range(days)], weights


def _action_plan(rng: random.Random, members: Sequence[SeedMember], first: date,
                 days: int) -> Iterator[tuple[SeedMember, list[SeedMember], date, str | None]]:
    """Yield (house member, senators, day, ref) per synthetic action, without end."""
    house = [m for m in members if m.chamber == "house"]
    senators: dict[str, list[SeedMember]] = {}
    for m in members:
        if m.chamber == "senate":
            senators.setdefault(m.state, []).append(m)
    day_list, day_weights = _weighted_days(first, days)
    ref_choices: list[str | None] = [None, *REFS]
    ref_weights = [6.0] + [1.0 / (i + 1) ** 1.1 * 4 for i in range(len(REFS))]
    chunk = 10_000  # draw in chunks: rng.choices is much faster than one call per action
    while True:
        picks = zip(rng.choices(house, k=chunk), rng.choices(day_list, weights=day_weights, k=chunk),
                    rng.choices(ref_choices, weights=ref_weights, k=chunk), strict=True)
        for rep, day, ref in picks:
            yield rep, senators.get(rep.state, []), day, ref


def _channel(member: SeedMember) -> str:
    """Return a plausible channel: CWC for the House, e-mail or hand-off for senators."""
    if member.chamber == "house":
        return "cwc"
    return "handoff" if int(hashlib.md5(member.bioguide.encode()).hexdigest(), 16) % 3 == 0 else "smtp"


def _status(rng: random.Random, channel: str, age_days: int) -> str:
    """Return a plausible status for a message of this channel and age."""
    r = rng.random()
    if channel == "handoff":
        return "handed_off" if r < 0.7 else "needs_constituent"
    if age_days == 0 and r < 0.3:
        return "queued" if r < 0.25 else "sending"
    return "failed" if r < 0.03 else "delivered"


def seed(session: Session, campaign: str, n_messages: int, members: Sequence[SeedMember], *, days: int = 45,
         last_day: date | None = None, rng_seed: int = 1, time_zone: str = DEFAULT_TIME_ZONE,
         progress: Callable[[int], None] | None = None) -> int:
    """Insert about `n_messages` synthetic messages (and their actions), rebuild the roll-ups; commit.

    Days are local days in `time_zone` (the campaign's, registry.time_zone_of), as a submit writes them:
    `created_day` is the local day of `created_at`, `last_day` (default: today there) the last local day,
    and the hour-of-day roll-up gets the seeded actions' local hours. Every roll-up then equals a recount,
    with no `stats --rebuild` needed. Returns the number of messages inserted (whole actions, so it can
    exceed the request by two).
    """
    if n_messages < 1:
        raise SeedError("--messages must be at least 1")
    if not any(m.chamber == "house" for m in members):
        raise SeedError("no House members to address: is the district data installed?")
    rng = random.Random(rng_seed)
    tz = zone(time_zone)
    last_day = last_day or local_day(datetime.now(UTC), time_zone)
    first = last_day - timedelta(days=days - 1)
    hours: Counter[tuple[date, int]] = Counter()
    with transaction(session):
        next_id = (session.execute(select(func.max(Action.id))).scalar_one() or 0) + 1
        tag = f"seed-{campaign}-{rng_seed}-{next_id}"
        sink = _sink(session)
        actions: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        inserted = 0
        for i, (rep, sens, day, ref) in enumerate(_action_plan(rng, members, first, days)):
            if inserted + len(messages) >= n_messages:
                break
            action_id = next_id + i
            # A local wall-clock time on the planned day, stored as its UTC instant; the day and hour that
            # count are read back from the instant (a time in the spring-forward gap moves an hour on).
            instant = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), tz).astimezone(UTC)
            moment = instant.astimezone(tz)
            local = moment.date()
            hours[(local, moment.hour)] += 1
            at, day_value = sink.stamp(instant), sink.day(local)
            key = hashlib.sha256(f"{tag}-{i}".encode()).hexdigest()
            label = district_label(rep.state, rep.district or 0)
            actions.append((action_id, key[:40], campaign, at, day_value, ref,
                            "es" if rng.random() < 0.08 else "en", label, rep.state))
            age = (last_day - local).days
            for member in (rep, *sens):
                channel = _channel(member)
                messages.append((
                    hashlib.md5(f"{key}{member.bioguide}".encode()).hexdigest(), action_id, campaign, key,
                    member.bioguide, member.name, member.title, member.chamber, member.state, member.district,
                    ref, channel, _status(rng, channel, age), at, day_value, at))
            if len(messages) >= BATCH:
                inserted += sink.flush(actions, messages)
                if progress:
                    progress(inserted)
        inserted += sink.flush(actions, messages)
        sink.close()
        if progress:
            progress(inserted)
        advance_action_ids(session)
        _add_hours(session, campaign, hours)
    counts.rebuild(session, campaign)  # and the packet roll-ups (packet_counts adopts counts.rebuild)
    # Fresh planner statistics after a bulk load, as autovacuum (or SQLite's optimize) would gather later;
    # on SQLite from a sample of each index (analysis_limit), as PostgreSQL samples, not every row.
    with transaction(session):
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("PRAGMA analysis_limit=1000"))
        session.execute(text("ANALYZE"))
    return inserted


def _add_hours(session: Session, campaign: str, hours: Counter[tuple[date, int]]) -> None:
    """Add the seeded actions to the hour-of-day roll-up (slot 0), as submits add theirs, in key order.

    An upsert adding to what is there: the rows stay exact beside earlier submits and seeds. counts.rebuild
    does not recompute this roll-up (it does not know time zones); local_days.relocalise does.
    """
    rows = [{"campaign": campaign, "day": d, "hour": h, "slot": 0, "n": n}
            for (d, h), n in sorted(hours.items())]
    for start in range(0, len(rows), BATCH):
        counts.upsert_rows(session, local_days.HOUR_COUNTS, ("campaign", "day", "hour", "slot"), ("n",), (),
                           rows[start:start + BATCH])


# The bulk load writes these columns, in this order (the tuples `seed` builds); the rest take their server
# defaults (claims 0, flagged_repeat false) or stay NULL. Constant ones are added by the sinks.
_ACTION_COLUMNS = ("id", "receipt_token", "campaign", "created_at", "created_day", "ref", "lang",
                   "district_label", "state")
_ACTION_CONSTANTS = {"wants_receipt_email": False, "receipt_email_attempts": 0, "flagged_repeat": False}
_MESSAGE_COLUMNS = ("id", "action_id", "campaign", "constituent_key", "bioguide", "member_name",
                    "member_title", "chamber", "state", "district", "ref", "channel", "status", "created_at",
                    "created_day", "updated_at")
_MESSAGE_CONSTANTS = {"subject": "Pass the proposal", "edited": False, "attempts": 1, "claims": 0}


class _Sink:
    """Writes buffered row tuples with the driver's fastest bulk path, inside the session's transaction.

    Bypassing SQLAlchemy's per-row parameter processing is what makes a million rows take seconds, not
    minutes: the ORM and even Core executemany spend most of a bulk load converting values one by one.
    """

    def __init__(self, session: Session) -> None:
        self.raw: Any = session.connection().connection.driver_connection

    def flush(self, actions: list[tuple[Any, ...]], messages: list[tuple[Any, ...]]) -> int:
        """Write the buffers (actions first: messages reference them), empty them; return the messages."""
        n = len(messages)
        if actions:
            self.write("actions", _ACTION_COLUMNS, _ACTION_CONSTANTS, actions)
        if messages:
            self.write("messages", _MESSAGE_COLUMNS, _MESSAGE_CONSTANTS, messages)
        actions.clear()
        messages.clear()
        return n

    def close(self) -> None:
        """Undo any setting made for the load (the connection goes back to the pool)."""

    def stamp(self, instant: datetime) -> Any:
        """Return an aware UTC instant as the driver takes it for a models.UTCDateTime column."""
        return instant.replace(tzinfo=None)  # naive UTC, as UTCDateTime stores it

    def day(self, day: date) -> Any:
        """Return a date as the driver takes it."""
        return day

    def write(self, table: str, columns: tuple[str, ...], constants: dict[str, Any],
              rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError


class _SqliteSink(_Sink):
    """sqlite3's executemany of one prepared INSERT, the values in SQLAlchemy's own text storage format.

    With a larger page cache for the load: the messages' indexes have random keys (ids, constituent keys),
    and with SQLite's default 2 MB cache most inserts would read and write back an index page.
    """

    LOAD_CACHE_KIB = 256 * 1024

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.cache_size = self.raw.execute("PRAGMA cache_size").fetchone()[0]
        self.raw.execute(f"PRAGMA cache_size=-{self.LOAD_CACHE_KIB}")

    def close(self) -> None:
        self.raw.execute(f"PRAGMA cache_size={int(self.cache_size)}")

    def stamp(self, instant: datetime) -> Any:
        """Return the instant as SQLAlchemy's SQLite DATETIME text (naive UTC, microseconds always shown)."""
        return instant.strftime("%Y-%m-%d %H:%M:%S.%f")

    def day(self, day: date) -> Any:
        """Return the date as SQLAlchemy's SQLite DATE text."""
        return day.isoformat()

    def write(self, table: str, columns: tuple[str, ...], constants: dict[str, Any],
              rows: list[tuple[Any, ...]]) -> None:
        names = (*columns, *constants)
        fixed = tuple(int(v) if isinstance(v, bool) else v for v in constants.values())
        stored = [row + fixed for row in rows]
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        self.raw.cursor().executemany(sql, stored)


class _PostgresSink(_Sink):
    """psycopg's COPY ... FROM STDIN: the rows stream in one command, no statement per row."""

    def write(self, table: str, columns: tuple[str, ...], constants: dict[str, Any],
              rows: list[tuple[Any, ...]]) -> None:
        names = (*columns, *constants)
        fixed = tuple(constants.values())
        command = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with self.raw.cursor() as cursor, cursor.copy(command) as copy:
            for row in rows:
                copy.write_row(row + fixed)


def _sink(session: Session) -> _Sink:
    """Return the bulk writer for the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return _PostgresSink(session)
    if dialect == "sqlite":
        return _SqliteSink(session)
    raise SeedError(f"seeding needs SQLite or PostgreSQL, not {dialect}")


def advance_action_ids(session: Session) -> None:
    """Move PostgreSQL's action id sequence past the ids the seed wrote itself (SQLite needs nothing).

    The seed writes ids (one executemany, no RETURNING); without this the next real submission drew an id
    the seed had taken and failed with 500 (UniqueViolation pk_actions).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    # is_called false: the next nextval() returns exactly MAX(id) + 1.
    session.execute(text("SELECT setval(pg_get_serial_sequence('actions', 'id'), "
                         "(SELECT COALESCE(MAX(id), 0) + 1 FROM actions), false)"))
