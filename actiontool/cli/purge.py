"""`actiontool purge [--older-than 30d]`: clear constituents' personal data past the retention limit."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("purge")
@click.option("--older-than", "older_than", default=None, metavar="DURATION",
              help="Actions submitted longer ago than this: 12h, 30d, 2w "
                   "[default: ACTIONTOOL_RETENTION_DAYS].")
@click.option("--dry-run", is_flag=True, help="Say how many actions would be purged; change nothing.")
@with_appcontext
def purge(older_than: str | None, dry_run: bool) -> None:
    """Remove names, addresses, e-mails, phones and letters of old actions; keep every count."""
    from flask import current_app

    from actiontool import db
    from actiontool.services.purge import InvalidDuration, parse_duration, purge_personal_data

    if older_than is None:
        older_than = f"{int(current_app.config.get('RETENTION_DAYS') or 30)}d"
    try:
        age = parse_duration(older_than)
    except InvalidDuration as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    with db.session_scope() as session:
        result = purge_personal_data(session, age, dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    click.echo(f"{verb} personal data of {result.actions} actions ({result.messages} messages)")


def register(group: click.Group) -> None:
    """Attach the command to the actiontool group."""
    group.add_command(purge)
