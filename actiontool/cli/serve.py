"""`actiontool serve`: run the web app (with an in-process delivery thread by default)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False, help="Reload on change and show the debugger.")
@with_appcontext
def serve(host: str, port: int, debug: bool) -> None:
    """Serve the app with the development server (use gunicorn in production; see docs/DEPLOY.md)."""
    from flask import current_app

    current_app.run(host=host, port=port, debug=debug, use_reloader=debug)


def register(group: click.Group) -> None:
    """Attach the command to the actiontool group."""
    group.add_command(serve)
