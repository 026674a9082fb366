"""Schema migrations (Alembic), shipped inside the package and configured in code, not by alembic.ini.

`upgrade(engine)` brings a database to the newest revision. It runs in one transaction that first takes
a lock (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so several web and worker processes
that start at once against a fresh database apply each migration exactly once.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

from actiontool.models import Base

# Alembic is imported by the functions that migrate, not here: a process starting on a database that is
# already current (every start but the first after an upgrade) checks that with one query and the
# revision lines of the version files, without Alembic's import (a third of a second of CPU, ~10 MB).
if TYPE_CHECKING:
    from alembic.config import Config

# Any fixed 64-bit number; it names the lock that serialises migrations across processes on PostgreSQL.
_PG_LOCK_ID = 7_202_611_273


class SchemaOutOfDate(RuntimeError):
    """The database is behind the code's newest migration and automatic upgrades are off."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic config that points at this package's migrations (and at `connection`)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """Return the newest revision the code knows (read once per process)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the package ships no migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the database's revision, or None for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    """Return True when the database is at the newest revision."""
    return current_revision(engine) == head_revision()


_VERSIONS = Path(__file__).parent / "versions"
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=\n]*)?=\s*(.*?)\s*$", re.MULTILINE)
_QUOTED = re.compile(r"""^['"]([^'"]+)['"]$""")


@cache
def quick_head_revision() -> str | None:
    """Return the newest revision read from the version files' `revision =` and `down_revision =` lines,
    without importing Alembic; None unless they form one plain chain (then Alembic must decide)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in _VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        lines = {match.group(1): match.group(2) for match in _REVISION_LINE.finditer(source)}
        revision = _QUOTED.match(lines.get("revision", ""))
        if revision is None:
            return None
        revisions.add(revision.group(1))
        down = lines.get("down_revision", "")
        if down != "None":
            parent = _QUOTED.match(down)
            if parent is None:  # a merge (a tuple) or anything unusual
                return None
            parents.add(parent.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def quickly_current(engine: Engine) -> bool:
    """Return True when the database is surely at the newest revision, by one query and no Alembic import;
    False means "not known": ask Alembic (ensure_current)."""
    head = quick_head_revision()
    if head is None:
        return False
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows == [head]


def _lock(connection: Connection) -> None:
    """Serialise migrations across processes for the rest of this transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
    # SQLite: the transaction began with BEGIN IMMEDIATE (see actiontool.db), which is the lock.


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None] | None:
    """Bring the database to `revision` in one locked transaction; a no-op when already there.

    An empty database is built from the models and stamped at head, which is faster than replaying
    every migration and gives the same schema (tests/test_migrations.py compares the two on SQLite
    and PostgreSQL). A database that has tables is upgraded by the migrations.

    Returns (from, to) read under the lock when this call changed the revision, else None: of several
    concurrent upgrades only the one that migrated says so (the others waited and found it done).
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    if revision == "head" and is_current(engine):
        return None
    with engine.begin() as conn:
        _lock(conn)
        before = MigrationContext.configure(conn).get_current_revision()
        if revision == "head" and _is_empty(conn):
            Base.metadata.create_all(conn)
            command.stamp(alembic_config(conn), "head")
        else:
            command.upgrade(alembic_config(conn), revision)
        after = MigrationContext.configure(conn).get_current_revision()
    return (before, after) if before != after else None


def apply_migrations(engine: Engine, revision: str = "head") -> None:
    """Run the migration scripts themselves up to `revision`, even on an empty database."""
    from alembic import command

    with engine.begin() as conn:
        _lock(conn)
        command.upgrade(alembic_config(conn), revision)


def _is_empty(conn: Connection) -> bool:
    """Return True when the database has neither our tables nor a migration history."""
    existing = set(inspect(conn).get_table_names())
    return not existing & (set(Base.metadata.tables) | {"alembic_version"})


def ensure_current(engine: Engine, *, auto_upgrade: bool) -> None:
    """Upgrade the database at start, or refuse to start on an old schema when upgrades are manual."""
    if quickly_current(engine) or is_current(engine):
        return
    revision = current_revision(engine)
    if (revision is None and _has_tables(engine)) or (revision is not None and not _known(revision)):
        _adopt_unversioned(engine)
        return
    if not auto_upgrade:
        raise SchemaOutOfDate(
            f"the database is at revision {current_revision(engine) or 'none'} but the code needs "
            f"{head_revision()}: run `actiontool db upgrade`"
        )
    upgrade(engine)


def new_revision(message: str, rev_id: str | None = None) -> str:
    """Write a revision with the models' changes since head (a developer's tool; needs a checkout)."""
    import tempfile

    from alembic import command
    from alembic.script import ScriptDirectory

    from actiontool.db import make_engine

    if rev_id is None:  # number revisions in order: 0001, 0002, ...
        script_dir = ScriptDirectory.from_config(alembic_config())
        head = script_dir.get_current_head()
        rev_id = f"{int(head) + 1:04d}" if head and head.isdigit() else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'head.sqlite3'}")
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), "head")
            with engine.begin() as conn:
                script = command.revision(alembic_config(conn), message=message, autogenerate=True,
                                          rev_id=rev_id)
        finally:
            engine.dispose()
    return str(script.path)  # type: ignore[union-attr]


def _has_tables(engine: Engine) -> bool:
    """Return True when the database holds any of our tables."""
    existing = set(inspect(engine).get_table_names())
    return bool(existing & set(Base.metadata.tables))


def _known(revision: str) -> bool:
    """Return True when `revision` is one of the package's migrations."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return revision in {script.revision for script in scripts.walk_revisions()}


def _adopt_unversioned(engine: Engine) -> None:
    """Stamp a database whose history we do not know (made before the migrations, or by a development
    revision since folded into another) at head, when its tables already match the models."""
    diffs = schema_differences(engine)
    if diffs:
        raise SchemaOutOfDate(
            "the database's migration history is missing or unknown to this version, and its tables "
            f"differ from the models ({len(diffs)} differences): back it up and start from an empty database"
        )
    from alembic import command

    with engine.begin() as conn:
        _lock(conn)
        command.stamp(alembic_config(conn), "head", purge=True)


def schema_differences(engine: Engine) -> list[Any]:
    """Return Alembic's list of differences between the database and the models (empty: they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if not _is_alembic_table(d)]


def _is_alembic_table(diff: Any) -> bool:
    """Ignore Alembic's own bookkeeping table."""
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"
