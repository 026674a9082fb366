"""The database's clock: leases, due times and backoff are measured by it, never by a worker's own clock.

Workers on several machines disagree about the time; a worker whose clock runs 30 s ahead would take
every lease as expired 30 s early and send live letters again. Reading the time from the database inside
the transaction that compares or writes it gives every worker the same clock. (SQLite runs inside each
process, so there it is the machine's clock, which the processes sharing one database file share too.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

# Naive UTC with fractions of a second, as the UTCDateTime columns store it. statement_timestamp(), not
# now(): now() stays at the transaction's start, which a transaction that waited for a lock has left behind.
_NOW = {
    "postgresql": text("SELECT timezone('UTC', statement_timestamp())"),
    "sqlite": text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"),
}


def database_now(session: Session) -> datetime:
    """Return the database's current time (UTC, timezone-aware), read in the session's transaction."""
    value = session.execute(_NOW[session.get_bind().dialect.name]).scalar_one()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
