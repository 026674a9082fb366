"""Migrations: they build exactly the models' schema, run at start, and are safe to start concurrently."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import inspect, text

from actiontool import create_app, migrations
from actiontool.cli import main
from actiontool.db import make_engine
from actiontool.models import Base

# These tests watch the migrations build a schema, so they start from empty databases.
pytestmark = pytest.mark.empty_database


def test_migrations_build_exactly_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.apply_migrations(engine)
        assert migrations.schema_differences(engine) == []
        assert migrations.current_revision(engine) == migrations.head_revision()
    finally:
        engine.dispose()


def test_schema_comparison_notices_a_missing_table(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine)
        with engine.begin() as conn:
            Base.metadata.tables["organizers"].drop(conn)
        diffs = migrations.schema_differences(engine)
        assert any(d[0] == "add_table" and d[1].name == "organizers" for d in diffs)
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine)
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrations.apply_migrations(engine)
        assert migrations.schema_differences(engine) == []
    finally:
        engine.dispose()


def test_a_fresh_database_is_upgraded_when_the_app_starts(app: Flask) -> None:
    from actiontool import db

    with app.app_context():
        assert migrations.current_revision(db.engine()) == migrations.head_revision()


def test_manual_upgrades_refuse_to_start_on_an_empty_database(app_config: dict[str, Any]) -> None:
    with pytest.raises(migrations.SchemaOutOfDate, match="actiontool db upgrade"):
        create_app({**app_config, "AUTO_MIGRATE": False})


def test_a_database_made_before_migrations_is_adopted_when_it_matches(database_url: str,
                                                                      app_config: dict[str, Any]) -> None:
    engine = make_engine(database_url)
    try:
        Base.metadata.create_all(engine)
        create_app({**app_config, "AUTO_MIGRATE": False}).extensions["actiontool.db"]["engine"].dispose()
        assert migrations.current_revision(engine) == migrations.head_revision()
    finally:
        engine.dispose()


@pytest.mark.parametrize("how", ["start", "scripts"])
def test_concurrent_starts_on_a_fresh_database_apply_the_migrations_once(database_url: str, how: str) -> None:
    engines = [make_engine(database_url) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(engines))

    def start(engine: Any) -> None:
        barrier.wait()
        try:
            if how == "start":
                migrations.upgrade(engine)
            else:
                migrations.apply_migrations(engine)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        assert migrations.schema_differences(engines[0]) == []
    finally:
        for e in engines:
            e.dispose()


def test_db_upgrade_command_upgrades_then_reports_nothing_to_do(tmp_path: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ACTIONTOOL_DATABASE_URL", url)
    monkeypatch.setenv("ACTIONTOOL_SECRET_KEY", "cli-test-key")
    runner = CliRunner()
    result = runner.invoke(main, ["db", "current"])
    assert result.exit_code == 1, result.output
    assert "database: empty" in result.output
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"to {migrations.head_revision()}" in result.output
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "already at" in result.output
    result = runner.invoke(main, ["db", "current"])
    assert result.exit_code == 0, result.output


def test_a_database_stamped_by_an_unknown_revision_is_adopted_when_it_matches(
        database_url: str, app_config: dict[str, Any]) -> None:
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'folded0'"))
        create_app({**app_config, "AUTO_MIGRATE": False}).extensions["actiontool.db"]["engine"].dispose()
        assert migrations.current_revision(engine) == migrations.head_revision()
    finally:
        engine.dispose()


def test_an_unknown_database_that_differs_from_the_models_refuses_to_start(
        database_url: str, app_config: dict[str, Any]) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            Base.metadata.tables["organizers"].create(conn)
        with pytest.raises(migrations.SchemaOutOfDate, match="start from an empty database"):
            create_app(app_config)
    finally:
        engine.dispose()


def test_of_concurrent_upgrades_only_the_one_that_migrated_says_so(database_url: str) -> None:
    """Issue 13 finding 12: three concurrent `db upgrade` each said "upgraded from empty"; one migrated."""
    engines = [make_engine(database_url) for _ in range(3)]
    results: list[Any] = []
    barrier = threading.Barrier(len(engines))

    def start(engine: Any) -> None:
        barrier.wait()
        results.append(migrations.upgrade(engine))

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert len(results) == 3
        assert [r for r in results if r is not None] == [(None, migrations.head_revision())]
    finally:
        for e in engines:
            e.dispose()


def test_the_quick_head_read_from_the_version_files_is_alembics_head() -> None:
    assert migrations.quick_head_revision() == migrations.head_revision()


def test_the_quick_check_says_current_only_for_a_database_at_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert not migrations.quickly_current(engine)  # empty: no alembic_version table
        migrations.upgrade(engine)
        assert migrations.quickly_current(engine)
        with engine.begin() as conn:
            command.downgrade(migrations.alembic_config(conn), "0010")
        assert not migrations.quickly_current(engine)
        migrations.ensure_current(engine, auto_upgrade=True)  # not current: Alembic upgrades it
        assert migrations.quickly_current(engine) and migrations.is_current(engine)
    finally:
        engine.dispose()
