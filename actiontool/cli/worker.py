"""`actiontool worker`: deliver due messages until stopped (SIGTERM/SIGINT finish the current delivery)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click
from flask.cli import with_appcontext


def describe_channels(config: dict[str, object]) -> str:
    """Return one line saying which channels this server can deliver through (never any secret)."""
    from actiontool.delivery.settings import from_config

    settings = from_config(config)
    smtp = f"smtp via {settings.smtp.host}:{settings.smtp.port}" if settings.smtp.configured else "smtp off"
    cwc = f"cwc via {settings.cwc.base_url}" if settings.cwc.configured else "cwc off"
    senate = "senate cwc on" if settings.cwc.senate_configured else "senate cwc off"
    return f"{smtp}; {cwc}; {senate}"


def campaign_problems(app: object) -> list[str]:
    """Return one line per delivery error or warning of the app's campaigns (bad options, channels off)."""
    from actiontool.delivery.campaign_info import check_campaign
    from actiontool.delivery.settings import from_config
    from actiontool.registry import all_campaigns

    settings = from_config(app.config)  # type: ignore[attr-defined]
    lines = [f"warning: {w}" for w in settings.warnings()]
    for slug, campaign in sorted(all_campaigns(app).items()):  # type: ignore[arg-type]
        errors, warnings = check_campaign(campaign, settings)
        lines += [f"campaign {slug}: error: {e}" for e in errors]
        lines += [f"campaign {slug}: warning: {w}" for w in warnings]
    return lines


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Deliveries in flight at once (threads).")
@with_appcontext
def worker(once: bool, concurrency: int) -> None:
    """Deliver queued messages and receipt e-mails (several workers may run against one database)."""
    from flask import current_app

    from actiontool.delivery.errors import DeliverySettingsError
    from actiontool.delivery.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        runner = Worker(app, concurrency=concurrency)
    except DeliverySettingsError as exc:
        raise click.ClickException(f"the worker cannot start: {exc}") from None

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: finishing the deliveries in flight", signum)
        runner.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    click.echo(f"worker: {describe_channels(dict(app.config))}; concurrency {concurrency} "
               f"(at most {runner.channel_threads} per channel)", err=True)
    for line in campaign_problems(app):
        click.echo(line, err=True)
    try:
        runner.run(once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(runner.counts.items())) or "nothing due"
    click.echo(f"worker stopped: {summary}", err=True)


def register(group: click.Group) -> None:
    """Attach the command to the actiontool group."""
    group.add_command(worker)
