"""`actiontool organizer create|list|disable`: organizer accounts, managed by an operator."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.group("organizer")
def organizer() -> None:
    """Manage organizer accounts (there is no default account)."""


@organizer.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
def create(email: str, password_stdin: bool) -> None:
    """Create an organizer; asks for the password twice unless --password-stdin."""
    from actiontool import db
    from actiontool.services import organizers

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    try:
        with db.session_scope() as session:
            organizers.create(session, email, password)
    except organizers.OrganizerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created organizer {organizers.normalize_email(email)}")


@organizer.command("list")
@with_appcontext
def list_() -> None:
    """List organizers: e-mail, active or disabled, last sign-in."""
    from actiontool import db
    from actiontool.services import organizers

    with db.session_scope() as session:
        rows = organizers.list_all(session)
    if not rows:
        click.echo("no organizers yet: create one with `actiontool organizer create EMAIL`")
    for row in rows:
        last = row.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if row.last_login_at else "never signed in"
        click.echo(f"{row.email}\t{'active' if row.active else 'disabled'}\t{last}")


@organizer.command("disable")
@click.argument("email")
@with_appcontext
def disable(email: str) -> None:
    """Disable an organizer; their open sessions stop working at once."""
    from actiontool import db
    from actiontool.services import organizers

    try:
        with db.session_scope() as session:
            organizers.disable(session, email)
    except organizers.OrganizerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"disabled organizer {organizers.normalize_email(email)}")


def register(group: click.Group) -> None:
    """Attach the commands to the actiontool group."""
    group.add_command(organizer)
