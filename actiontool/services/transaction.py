"""The one way a use case runs its writes: a block that commits at its end and rolls back on any error.

On SQLite a read-only request's session reads in deferred transactions, which never wait for the write
lock (see actiontool/db.py); a write block first ends such a read and then starts its own transaction
with the write lock taken at BEGIN, so two writers never deadlock upgrading a read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.orm import Session

# Set while a write block runs: actiontool/db.py then begins SQLite transactions IMMEDIATE.
writing: ContextVar[bool] = ContextVar("actiontool_writing", default=False)
# Key in a connection's info: its current transaction began deferred (a read that holds no lock).
DEFERRED = "actiontool_deferred"


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit the session when the block ends; roll it back and re-raise when anything escapes the block.

    BaseException, not Exception: a KeyboardInterrupt or a worker thread's SystemExit in the middle of a
    write must not leave the transaction (and SQLite's write lock) open on a pooled connection.
    """
    if session.in_transaction() and session.connection().info.get(DEFERRED) and not session.new \
            and not session.dirty and not session.deleted:
        session.commit()  # end the read: objects stay loaded (expire_on_commit=False), the snapshot goes
    token = writing.set(True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        writing.reset(token)
