"""Alembic environment: runs on the connection that actiontool.migrations hands over (no alembic.ini)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.types import TypeDecorator

from actiontool.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through actiontool.migrations (e.g. `actiontool db upgrade`)")


def render_item(kind: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    """Write our column types as their plain SQLAlchemy types so revisions never import the models."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


# The caller holds the transaction (and, on PostgreSQL, an advisory lock), so concurrent starts
# of several processes apply each migration once.
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
    compare_type=True,
    render_item=render_item,
)
context.run_migrations()
