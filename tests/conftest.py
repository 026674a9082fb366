"""Shared fixtures: an app with a fresh database per test, its test client and CLI runner.

Tests run on SQLite always; when ACTIONTOOL_TEST_DATABASE_URL is set, tests that take the `app`
fixture run on PostgreSQL as well (each in a schema of its own, dropped afterwards).

Building the schema costs more than most tests, so each test's database starts at the newest revision
and the app leaves it alone at start: SQLite tests get a copy of one file migrated once per session,
PostgreSQL tests a schema built by one SQL script made once. Tests of the migrations themselves mark
themselves `empty_database` to start from an empty database instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, create_mock_engine, text
from sqlalchemy.dialects import postgresql

from actiontool import create_app, migrations
from actiontool.db import make_engine
from actiontool.models import Base
from tests.factories import PASSWORD, write_submission

PG_URL = os.environ.get("ACTIONTOOL_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_schema_url(schema: str) -> str:
    """Return the PostgreSQL test URL with a search_path that isolates one test's tables."""
    sep = "&" if "?" in PG_URL else "?"  # type: ignore[operator]
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a SQLite file at the newest migration, built once per session for tests to copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()  # the last connection to close folds the WAL into the file, so one file is all
    return path


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """Yield an engine on the PostgreSQL test database that creates and drops the tests' schemas."""
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))  # type: ignore[union-attr]
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def pg_schema_script(pg_admin: Engine) -> str:
    """Return SQL that builds the newest schema in the search_path, checked once against the models.

    One round trip instead of the dozens that creating the tables and stamping them at start costs.
    """
    statements: list[str] = []
    dialect = postgresql.dialect()
    recorder = create_mock_engine("postgresql+psycopg://",
                                  lambda sql, *_a, **_k: statements.append(str(sql.compile(dialect=dialect))))
    Base.metadata.create_all(recorder, checkfirst=False)
    script = ";\n".join(s.strip() for s in statements) + (
        ";\nCREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
        " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));\n"
        f"INSERT INTO alembic_version (version_num) VALUES ('{migrations.head_revision()}');"
    )
    with _pg_schema(pg_admin, script) as url:
        engine = make_engine(url)
        try:
            assert migrations.is_current(engine) and migrations.schema_differences(engine) == []
        finally:
            engine.dispose()
    return script


@contextmanager
def _pg_schema(admin: Engine, script: str | None) -> Iterator[str]:
    """Create a schema of its own (running `script` in it), yield its URL, then drop it."""
    schema = "t_" + uuid.uuid4().hex[:12]
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        if script is not None:
            conn.exec_driver_sql(f"SET LOCAL search_path TO {schema};\n{script}")
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield a fresh database URL at the newest migration: a copy of the SQLite template, or a PostgreSQL
    schema of its own built by one script. A test marked `empty_database` gets an empty one instead."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        if not empty:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    script = None if empty else request.getfixturevalue("pg_schema_script")
    with _pg_schema(request.getfixturevalue("pg_admin"), script) as url:
        yield url


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Return the test configuration; tests may change it before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        # The host names the test client and the browser tests' live servers use: links in receipt
        # e-mails need a configured name (tests/web/test_hardening.py checks what happens without).
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "WTF_CSRF_ENABLED": False,
        # Tests make many requests from one address: the rate-limit tests turn limits back on.
        "RATELIMIT_ENABLED": False,
        # Tests post the compose form at once: the bot tests set a minimum fill time themselves.
        "BOT_MIN_FILL_SECONDS": 0,
    }


@pytest.fixture
def app(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """Return an app on a fresh database."""
    application = create_app(app_config)
    application.instance_path = str(tmp_path / "instance")
    yield application
    from actiontool import db

    with application.app_context():
        db.engine().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Return a CLI runner bound to the app."""
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    """Yield a session on the app's database."""
    from actiontool import db

    with db.session_scope(app) as s:
        yield s


@pytest.fixture
def writer() -> Callable[..., int]:
    """Return write_submission, the direct row writer of the count tests."""
    return write_submission


@pytest.fixture
def organizer(app: Flask) -> str:
    """Create an active organizer and return their e-mail."""
    from actiontool import db
    from actiontool.services import organizers

    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
    return "org@example.org"


@pytest.fixture
def signed_in(client: FlaskClient, organizer: str) -> FlaskClient:
    """Return a test client signed in as the organizer."""
    response = client.post("/organizer/login", data={"email": organizer, "password": PASSWORD})
    assert response.status_code == 302, response.data
    return client
