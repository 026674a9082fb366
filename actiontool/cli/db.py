"""`actiontool db upgrade|current|revision`: manage the schema with the migrations inside the package."""

from __future__ import annotations

import click
from flask import Flask


def _app() -> Flask:
    """Create the app without touching the schema, so that these commands decide what happens to it."""
    from actiontool import create_app

    return create_app({"AUTO_MIGRATE": None, "GENERATE_SECRET_KEY": True})


@click.group("db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION (safe to run while other processes start)."""
    from actiontool import db, migrations

    app = _app()
    with app.app_context():
        engine = db.engine()
        # Read under the migration lock: of concurrent upgrades only the one that migrated says so.
        changed = migrations.upgrade(engine, revision)
        after = migrations.current_revision(engine)
    if changed is None:
        click.echo(f"database already at {after}")
    else:
        click.echo(f"database upgraded from {changed[0] or 'empty'} to {changed[1]}")


@db_group.command("current")
def current() -> None:
    """Print the database's revision and the code's newest one; exit 1 when they differ."""
    from actiontool import db, migrations

    app = _app()
    with app.app_context():
        revision = migrations.current_revision(db.engine())
    head = migrations.head_revision()
    click.echo(f"database: {revision or 'empty'}\ncode:     {head}")
    if revision != head:
        raise SystemExit(1)


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the change is, e.g. 'add bot submissions'.")
def revision(message: str) -> None:
    """Write a new migration with the models' changes since the newest one (for developers)."""
    from actiontool import migrations

    click.echo(migrations.new_revision(message))


def register(group: click.Group) -> None:
    """Attach the db commands to the actiontool group."""
    group.add_command(db_group)
