"""The `actiontool` command: thin click commands that call plain functions.

Each feature's commands live in a module of this package and are attached here, so that adding a
command never means editing a long file that every feature shares.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup


def _create_app() -> object:
    from sqlalchemy.exc import OperationalError

    from actiontool import create_app
    from actiontool.campaigns import CampaignError
    from actiontool.config import ConfigError
    from actiontool.migrations import SchemaOutOfDate

    # The command may generate a secret key in the instance folder, so `make run` works on a fresh
    # machine; gunicorn (create_app directly) must be given one instead (see web/security.py).
    try:
        return create_app({"GENERATE_SECRET_KEY": True})
    except (ConfigError, SchemaOutOfDate, CampaignError, OperationalError) as exc:
        # An operator's mistake (a setting, a database, a campaign file) deserves a sentence, not a traceback.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"the app cannot start: {first_line}") from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main() -> None:
    """actiontool: ZIP -> members of Congress -> letter -> delivery, with honest counts."""


def _register() -> None:
    """Attach every feature's commands to the group."""
    from importlib import import_module

    for name in _COMMAND_MODULES:
        module = import_module(f"actiontool.cli.{name}")
        module.register(main)


# One module per feature; each defines register(group).
_COMMAND_MODULES: tuple[str, ...] = ("serve", "db", "lookup", "data", "worker", "cwc", "purge",
                                     "organizer", "stats", "dev", "campaign")

_register()
