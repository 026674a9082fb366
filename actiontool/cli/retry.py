"""`actiontool retry --campaign SLUG [--reason TEXT] [--since DATE] [--member BIOGUIDE]`: one-step recovery.

Queues every matching failed message again, in one transaction with one audit row: the same service
function as the delivery page's "Retry all that match" (actiontool.services.retries).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("retry")
@click.option("--campaign", "slug", required=True, metavar="SLUG",
              help="The campaign whose messages to retry.")
@click.option("--reason", default=None, metavar="TEXT",
              help="Only messages whose failure reason contains TEXT (any case).")
@click.option("--since", default=None, metavar="YYYY-MM-DD",
              help="Only messages that failed on or after DATE (UTC).")
@click.option("--member", default=None, metavar="BIOGUIDE",
              help="Only messages to this member, e.g. S000148.")
@click.option("--dry-run", is_flag=True, help="Say how many messages would be queued again; change nothing.")
@with_appcontext
def retry(slug: str, reason: str | None, since: str | None, member: str | None, dry_run: bool) -> None:
    """Queue the campaign's matching failed messages again (purged and accepted ones are refused)."""
    from actiontool import db, registry
    from actiontool.services import stats
    from actiontool.services.retries import FailedFilter, InvalidRetryFilter, count_matching, retry_matching

    try:
        wanted = FailedFilter.parse(reason, member, since)
    except InvalidRetryFilter as exc:
        raise click.UsageError(str(exc)) from None
    with db.session_scope() as session:
        if slug not in registry.all_campaigns() and slug not in stats.campaigns_with_counts(session):
            raise click.ClickException(f"no campaign {slug!r}: see `actiontool stats` for the campaigns")
        if dry_run:
            outcome = count_matching(session, slug, wanted)
        else:
            outcome = retry_matching(session, slug, wanted, actor="cli")
    verb = "would queue" if dry_run else "queued"
    click.echo(f"{verb} {outcome.retried} failed messages again")
    if outcome.purged or outcome.accepted:
        click.echo(f"left failed: {outcome.purged} purged (personal data gone), "
                   f"{outcome.accepted} already accepted by a channel")


def register(group: click.Group) -> None:
    """Attach the command to the actiontool group."""
    group.add_command(retry)
