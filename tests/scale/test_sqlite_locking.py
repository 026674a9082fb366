"""SQLite write transactions queue for the lock (short polls) instead of failing or sleeping long."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from actiontool import db
from actiontool.db import make_engine


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
