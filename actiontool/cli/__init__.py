"""The `actiontool` command: thin click commands that call plain functions.

Each feature's commands live in a module of this package and are attached here, so that adding a
command never means editing a long file that every feature shares. A module is imported only when its
command runs (or `--help` lists it), so `actiontool lookup` loads neither Flask nor the database.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flask import Flask

# One module per feature, named like its command; each defines register(group).
_COMMAND_MODULES: tuple[str, ...] = ("serve", "db", "lookup", "data", "worker", "cwc", "purge",
                                     "organizer", "stats", "dev", "campaign", "retry")
# Commands that never need the app: no Flask import, no app created.
_WITHOUT_APP: frozenset[str] = frozenset({"lookup", "data", "campaign", "db"})


def _create_app() -> Flask:
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
        if isinstance(exc, CampaignError):  # every file:line, as `actiontool campaign check` prints them
            raise click.ClickException("the app cannot start:\n" + "\n".join(exc.lines())) from None
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"the app cannot start: {first_line}") from None


class _LazyGroup(click.Group):
    """The command group: imports a command's module on first use and gives app commands their app."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return every command name, loaded or not."""
        return sorted(_COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command, importing its module; app commands get Flask's ScriptInfo as ctx.obj."""
        if cmd_name not in _COMMAND_MODULES:
            return None
        if cmd_name not in self.commands:
            import_module(f"actiontool.cli.{cmd_name}").register(self)
        if cmd_name not in _WITHOUT_APP and ctx.obj is None:
            # What flask.cli.with_appcontext looks for; a test runner may have given its own already.
            from flask.cli import ScriptInfo

            ctx.obj = ScriptInfo(create_app=_create_app)
        return self.commands.get(cmd_name)


@click.group(cls=_LazyGroup)
def main() -> None:
    """actiontool: ZIP -> members of Congress -> letter -> delivery, with honest counts."""
