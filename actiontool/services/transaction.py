"""The one way a use case runs its writes: a block that commits at its end and rolls back on any error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit the session when the block ends; roll it back and re-raise when anything escapes the block.

    BaseException, not Exception: a KeyboardInterrupt or a worker thread's SystemExit in the middle of a
    write must not leave the transaction (and SQLite's write lock) open on a pooled connection.
    """
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
