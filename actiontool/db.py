"""The database: one engine per app, one session per request, SQLite tuned for concurrent use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from actiontool.services.transaction import DEFERRED, writing

_EXTENSION = "actiontool.db"


def database_url(app: Flask) -> str:
    """Return the configured URL, or a SQLite file in the instance folder."""
    url = app.config.get("DATABASE_URL")
    if url:
        return str(url)
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "actiontool.sqlite3")


@dataclass(frozen=True)
class Timeouts:
    """How long a statement may wait for a lock, run, or sit idle inside a transaction (seconds; 0: no limit).

    A stalled process (a worker stopped by SIGSTOP, a swapped-out request) must not hold everyone's
    submits: a writer waits at most `lock` for a row or SQLite's write lock, then fails and its request
    answers "try again" (actiontool.web.errors), having written nothing. On PostgreSQL the stalled
    session's transaction is ended after `idle_in_transaction`, which releases its locks.
    """

    lock: float = 2.0
    statement: float = 60.0
    idle_in_transaction: float = 10.0

    @classmethod
    def from_config(cls, config: Any) -> Timeouts:
        """Read ACTIONTOOL_DB_LOCK_TIMEOUT_SECONDS and its two siblings."""
        return cls(lock=float(config.get("DB_LOCK_TIMEOUT_SECONDS", cls.lock)),
                   statement=float(config.get("DB_STATEMENT_TIMEOUT_SECONDS", cls.statement)),
                   idle_in_transaction=float(config.get("DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS",
                                                        cls.idle_in_transaction)))


def make_engine(url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and immediate write transactions.

    With `timeouts`, PostgreSQL sessions get lock_timeout, statement_timeout and
    idle_in_transaction_session_timeout, and SQLite writers in a web request wait at most `timeouts.lock`
    for the write lock.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        if timeouts is not None:
            _limit_postgresql(engine, timeouts)
        return engine
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
    _tune_sqlite(engine, timeouts)
    return engine


def _limit_postgresql(engine: Engine, timeouts: Timeouts) -> None:
    """Set the three timeouts on every new PostgreSQL session (in milliseconds; 0 turns one off)."""
    settings = {"lock_timeout": timeouts.lock, "statement_timeout": timeouts.statement,
                "idle_in_transaction_session_timeout": timeouts.idle_in_transaction}

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cursor:
            for name, seconds in settings.items():
                cursor.execute(f"SET {name} = {int(seconds * 1000)}")  # names and ints only: no input here
        dbapi_conn.commit()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        # A read-only connection (a CSV export streaming to a slow client) holds no row locks, so a pause
        # between its fetches harms no writer: it must not be ended as a stalled transaction.
        if conn.get_execution_options().get("read_only"):
            conn.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = 0")


def _tune_sqlite(engine: Engine, timeouts: Timeouts | None = None) -> None:
    """Set per-connection pragmas and make every transaction take the write lock at BEGIN.

    pysqlite's own transaction handling starts with a deferred BEGIN; two writers that both read first
    then deadlock on the upgrade and one fails with "database is locked". BEGIN IMMEDIATE queues them
    behind the busy timeout instead.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        # A read takes a deferred BEGIN: under WAL it reads a snapshot and never waits for the write lock
        # that submits queue for. Reads are connections marked read_only (export streams, the public
        # count) and a read-only request's session outside a write block (services.transaction).
        deferred = not writing.get() and (conn.get_execution_options().get("read_only") or _read_request())
        conn.info[DEFERRED] = deferred
        if deferred:
            conn.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(conn, timeouts)


def _read_request() -> bool:
    """Return True inside a GET, HEAD or OPTIONS request: it only reads, apart from its write blocks."""
    from flask import has_request_context, request

    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")


def _enable_wal(cursor: Any) -> None:
    """Switch the database file to WAL (a lasting property of the file), retrying while others hold it.

    The switch needs an exclusive lock, and SQLite answers "database is locked" at once, without its
    busy handler, when several processes open a new file together; only the first connections ever
    switch, so the others just see "wal" and go on.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(_LOCK_POLL_SECONDS[1])


_LOCK_WAIT_SECONDS = 30.0
_LOCK_POLL_SECONDS = (0.0002, 0.002)  # first and longest pause between tries


def _lock_wait(timeouts: Timeouts | None) -> float:
    """Return how long a SQLite writer waits for the write lock.

    A web request waits at most the lock timeout: someone waits for its answer, and a stalled process must
    not hold it (it answers 503 "try again" instead). Workers and commands have no one waiting and keep
    the long default, so a busy moment never turns their work into errors.
    """
    from flask import has_request_context

    if timeouts is None or timeouts.lock <= 0 or not has_request_context():
        return _LOCK_WAIT_SECONDS
    return timeouts.lock


def _begin_immediate(conn: Any, timeouts: Timeouts | None = None) -> None:
    """Take SQLite's write lock, polling every millisecond or so for up to the lock wait (default 30 s).

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... up to 100 ms between tries, so under a burst of
    writers (web processes plus delivery workers) a lock held for 3 ms costs its waiters 50-100 ms each;
    the load test measured submits at a seventh of their single-process speed. Short polls keep the queue
    moving. The connection's busy_timeout still protects every other statement.
    """
    import time

    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + _lock_wait(timeouts)
    pause = _LOCK_POLL_SECONDS[0]
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LOCK_POLL_SECONDS[1])
    finally:
        conn.exec_driver_sql("PRAGMA busy_timeout=30000")


def init_schema(engine: Engine, *, auto_upgrade: bool = True) -> None:
    """Bring the schema to the newest migration at start (or refuse to start when upgrades are manual)."""
    from actiontool import migrations

    migrations.ensure_current(engine, auto_upgrade=auto_upgrade)


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory, and close each request's session at teardown."""
    engine = make_engine(database_url(app), timeouts=Timeouts.from_config(app.config))
    factory = sessionmaker(engine, expire_on_commit=False)
    app.extensions[_EXTENSION] = {"engine": engine, "sessions": factory}
    auto_migrate = app.config.get("AUTO_MIGRATE", True)
    if auto_migrate is not None:  # None: leave the schema alone (`actiontool db` manages it itself)
        init_schema(engine, auto_upgrade=bool(auto_migrate))

    @app.teardown_appcontext
    def close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def engine() -> Engine:
    """Return the current app's engine."""
    return current_app.extensions[_EXTENSION]["engine"]


def session_factory(app: Flask | None = None) -> sessionmaker[Session]:
    """Return the session factory of `app` (default: the current app)."""
    target = app or current_app
    return target.extensions[_EXTENSION]["sessions"]


def get_session() -> Session:
    """Return this request's session, creating it on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """Yield a session outside a request (CLI, worker); the caller's service commits."""
    # Closing rolls back whatever the services left uncommitted, an error's half-done writes included.
    with session_factory(app)() as session:
        yield session
