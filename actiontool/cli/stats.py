"""`actiontool stats SLUG [--by ...] [--csv]`: the dashboard's counts in the terminal."""

from __future__ import annotations

import csv
import sys

import click
from flask.cli import with_appcontext

from actiontool.services.stats import DIMENSIONS


@click.command("stats")
@click.argument("slug", required=False)
@click.option("--by", "by", type=click.Choice(DIMENSIONS), default=None, help="Group the counts by this.")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV (cells neutralised for spreadsheets).")
@click.option("--from", "date_from", default=None, metavar="YYYY-MM-DD")
@click.option("--to", "date_to", default=None, metavar="YYYY-MM-DD")
@click.option("--state", default=None)
@click.option("--district", default=None, metavar="LABEL", help="e.g. OH-3 or AK-AL")
@click.option("--ref", default=None, help="A source code; (none) for actions without one.")
@click.option("--channel", default=None)
@click.option("--status", default=None)
@click.option("--rebuild", is_flag=True, help="Recompute local days (campaign time zones), the hour-of-day "
              "view and the roll-up counts from the messages first.")
@click.option("--compact", is_flag=True,
              help="Fold the count slots of days before yesterday into one row per key (run daily).")
@with_appcontext
def stats_command(slug: str | None, by: str | None, as_csv: bool, date_from: str | None, date_to: str | None,
                  state: str | None, district: str | None, ref: str | None, channel: str | None,
                  status: str | None, rebuild: bool, compact: bool) -> None:
    """Print a campaign's totals, or its counts grouped --by a dimension; without SLUG, list the campaigns."""
    from actiontool import db, registry
    from actiontool.csvexport import aggregate_table, neutralise
    from actiontool.registry import time_zone_of
    from actiontool.services import counts, local_days, stats

    args = {"from": date_from, "to": date_to, "state": state, "district": district, "ref": ref,
            "channel": channel, "status": status}
    try:
        filters = stats.Filters.from_args({k: v for k, v in args.items() if v})
    except stats.InvalidFilter as exc:
        raise click.UsageError(str(exc)) from None
    with db.session_scope() as session:
        counted = stats.campaigns_with_counts(session)
        loaded = registry.all_campaigns()
        if slug is not None and slug not in loaded and slug not in counted:
            raise click.ClickException(f"no campaign {slug!r}; the campaigns are: "
                                       f"{', '.join(sorted(set(loaded) | set(counted))) or 'none'}")
        if rebuild:
            # Local days first (the campaigns' time zones), then the roll-ups by day follow them.
            local_days.relocalise(session, time_zone_of, slug)
            counts.rebuild(session, slug)  # the packet roll-ups too, in the same locked transaction
            session.commit()
            click.echo("roll-up counts rebuilt", err=True)
        if compact:
            folded = counts.compact(session, slug)
            click.echo(f"roll-up counts compacted: {folded} slot rows folded", err=True)
        if slug is None:
            # Every campaign: the loaded files (also those nobody has written to yet) and any campaign whose
            # file is gone but whose counts remain.
            for name in sorted(set(loaded) | set(counted)):
                campaign = loaded.get(name)
                status = campaign.status if campaign is not None else "no campaign file"
                click.echo(f"{name}\t{status}\t{stats.totals(session, name)['messages']} messages")
            return
        if by is None:
            totals = stats.totals(session, slug, filters)
            # written, sent and delivered as services.counts defines them, then every status.
            keys = ["actions", "messages", "written", "sent", "delivered", "handed_off", "needs_constituent",
                    "queued", "sending", "failed", "constituents"]
            rows = [[k, "" if totals[k] is None else totals[k]] for k in keys]
            header = ["measure", "count"]
        else:
            header, rows = aggregate_table(stats.by(session, slug, by, filters), by)
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows([[neutralise(v) for v in row] for row in rows])
        return
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        click.echo("  ".join(str(v).rjust(w) if isinstance(v, int) else str(v).ljust(w)
                             for v, w in zip(row, widths, strict=False)).rstrip())


def register(group: click.Group) -> None:
    """Attach the command to the actiontool group."""
    group.add_command(stats_command)
