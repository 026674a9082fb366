"""SQLite write transactions queue for the lock (short polls) instead of failing or sleeping long."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, text

from actiontool import db
from actiontool.db import _enable_wal, make_engine


def test_a_writer_waits_for_the_lock_and_then_proceeds(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    holder = engine.connect()
    holder.begin()
    holder.execute(text("INSERT INTO t VALUES (1)"))
    done = threading.Event()

    def second_writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not done.wait(timeout=0.3)  # still queued behind the first transaction
    holder.commit()
    holder.close()
    thread.join(timeout=10)
    assert done.is_set()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()


def test_a_writer_gives_up_after_the_lock_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "_LOCK_WAIT_SECONDS", 0.2)
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    holder = engine.connect()
    holder.begin()
    with pytest.raises(exc.OperationalError, match="locked"), engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    holder.rollback()
    holder.close()
    engine.dispose()


def test_read_only_connections_do_not_take_the_write_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    holder = engine.connect()
    holder.begin()
    with engine.connect().execution_options(read_only=True) as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    holder.rollback()
    holder.close()
    engine.dispose()


class _LockedThenFree:
    """A cursor whose database stays locked for the first `locked` statements, as when others open it too."""

    def __init__(self, locked: int) -> None:
        self.locked = locked
        self.mode = "delete"
        self.statements: list[str] = []

    def execute(self, sql: str) -> _LockedThenFree:
        import sqlite3

        self.statements.append(sql)
        if self.locked:
            self.locked -= 1
            raise sqlite3.OperationalError("database is locked")
        if sql == "PRAGMA journal_mode=WAL":
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_switching_a_new_file_to_wal_retries_while_another_connection_holds_it() -> None:
    cursor = _LockedThenFree(locked=2)
    _enable_wal(cursor)
    assert cursor.mode == "wal"
    assert cursor.statements[-1] == "PRAGMA journal_mode=WAL"


def test_a_file_already_in_wal_is_left_alone() -> None:
    cursor = _LockedThenFree(locked=0)
    cursor.mode = "wal"
    _enable_wal(cursor)
    assert cursor.statements == ["PRAGMA journal_mode"]


def test_concurrent_first_connections_to_a_new_file_all_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    engines = [make_engine(url) for _ in range(6)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def open_one(engine: Any) -> None:
        barrier.wait()
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for e in engines:
        e.dispose()
    assert errors == []
