"""Shared fixtures: an app with a fresh database per test, its test client and CLI runner.

Tests run on SQLite always; when ACTIONTOOL_TEST_DATABASE_URL is set, tests that take the `app`
fixture run on PostgreSQL as well (each in a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from actiontool import create_app

PG_URL = os.environ.get("ACTIONTOOL_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_schema_url(schema: str) -> str:
    """Return the PostgreSQL test URL with a search_path that isolates one test's tables."""
    sep = "&" if "?" in PG_URL else "?"  # type: ignore[operator]
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """Yield a fresh, empty database URL: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))  # type: ignore[union-attr]
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def app_config(database_url: str, tmp_path: Any) -> dict[str, Any]:
    """Return the test configuration; tests may change it before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        # Tests make many requests from one address: the rate-limit tests turn limits back on.
        "RATELIMIT_ENABLED": False,
        # Tests post the compose form at once: the bot tests set a minimum fill time themselves.
        "BOT_MIN_FILL_SECONDS": 0,
    }


@pytest.fixture
def app(app_config: dict[str, Any], tmp_path: Any) -> Iterator[Flask]:
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
