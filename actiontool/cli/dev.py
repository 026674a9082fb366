"""`actiontool dev seed SLUG --messages N`: synthetic sends for benchmarks and demos."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext


@click.group("dev")
def dev() -> None:
    """Developer tools (never run these against a production database)."""


@dev.command("seed")
@click.argument("slug")
@click.option("--messages", "n_messages", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--days", type=click.IntRange(min=1, max=3650), default=45, show_default=True)
@click.option("--seed", "rng_seed", type=int, default=1, show_default=True, help="Random seed.")
@with_appcontext
def seed_command(slug: str, n_messages: int, days: int, rng_seed: int) -> None:
    """Fill the database with realistic synthetic messages across districts, days and sources."""
    from actiontool import db
    from actiontool.registry import dataset, time_zone_of
    from actiontool.services.seed import SeedError, members_from_dataset, seed

    try:
        members = members_from_dataset(dataset())
    except Exception as exc:  # noqa: BLE001 - any failure to load the data is reported the same way
        raise click.ClickException(f"cannot load the district data: {exc}") from None
    started = time.monotonic()
    with click.progressbar(length=n_messages, label=f"seeding {slug}", show_pos=True) as bar:
        done = 0

        def progress(inserted: int) -> None:
            nonlocal done
            bar.update(min(inserted, n_messages) - done)
            done = min(inserted, n_messages)

        try:
            with db.session_scope() as session:
                inserted = seed(session, slug, n_messages, members, days=days, rng_seed=rng_seed,
                                time_zone=time_zone_of(slug), progress=progress)
        except SeedError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"inserted {inserted:,} messages into {slug} in {time.monotonic() - started:.1f}s "
               f"(local days in {time_zone_of(slug)}; roll-up counts rebuilt)")


def register(group: click.Group) -> None:
    """Attach the commands to the actiontool group."""
    group.add_command(dev)
