"""`actiontool serve`: run the web app (with an in-process delivery thread by default)."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False, help="Reload on change and show the debugger.")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Deliver messages in a thread of this process; --no-worker when `actiontool worker` runs.")
@with_appcontext
def serve(host: str, port: int, debug: bool, with_worker: bool) -> None:
    """Serve the app with the development server (use gunicorn in production; see docs/DEPLOY.md)."""
    from flask import current_app

    from actiontool.config import links_configured

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not links_configured(app.config):
        click.echo("receipt e-mails are off: set ACTIONTOOL_BASE_URL or ACTIONTOOL_ALLOWED_HOSTS "
                   "so that links in them name this site", err=True)
    runner = None
    # Under the reloader the parent process only watches files; the worker belongs in the serving child.
    if with_worker and (not debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true"):
        from actiontool.cli.worker import campaign_problems, describe_channels
        from actiontool.delivery.errors import DeliverySettingsError
        from actiontool.delivery.worker import Worker

        try:
            runner = Worker(app)
        except DeliverySettingsError as exc:
            raise click.ClickException(f"the delivery thread cannot start: {exc}") from None
        runner.start_background()
        click.echo(f"delivery thread: {describe_channels(dict(app.config))}", err=True)
        for line in campaign_problems(app):
            click.echo(line, err=True)
    try:
        # Not app.run(): Flask ignores it inside a `flask`-style CLI command (FLASK_RUN_FROM_CLI).
        from werkzeug.serving import run_simple

        app.debug = debug
        run_simple(host, port, app, use_reloader=debug, use_debugger=debug, threaded=True)
    finally:
        if runner is not None:
            runner.stop()


def register(group: click.Group) -> None:
    """Attach the command to the actiontool group."""
    group.add_command(serve)
