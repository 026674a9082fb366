"""action_hour_counts (the hour-of-day view) and lower-case ref codes

Issue 15. Sources are case-insensitive from now on: `Ohio-Parents` and `ohio-parents` are one source,
written in lower case. This migration lower-cases the refs already stored in actions and messages and
merges the roll-up rows that then share a key (their counters are added, so every count stays exact).
The roll-ups are merged generically (key = the primary key, whatever its columns; counters = the status
columns and `n`; the rest, such as member names, copied), so the step also works on tables that gained key
columns in other migrations (a shard `slot`).

Days already counted stay UTC days; `actiontool stats --rebuild` recomputes them as local days in each
campaign's time zone (and fills action_hour_counts from the actions).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 08:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The roll-ups keyed by ref (message_counts, message_counts_by_source, action_counts).
_REF_ROLLUPS = ("message_counts", "message_counts_by_source", "action_counts")
# Their counter columns: one per message status, and an action roll-up's `n`.
_COUNTERS = frozenset({"delivered", "handed_off", "needs_constituent", "queued", "sending", "failed", "n"})


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'action_hour_counts',
        sa.Column('campaign', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('hour', sa.SmallInteger(), nullable=False),
        sa.Column('slot', sa.SmallInteger(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('campaign', 'day', 'hour', 'slot', name=op.f('pk_action_hour_counts')),
    )
    bind = op.get_bind()
    for table in ("actions", "messages"):
        bind.execute(sa.text(f"UPDATE {table} SET ref = lower(ref) WHERE ref <> lower(ref)"))
    for name in _REF_ROLLUPS:
        _merge_lower_case_refs(bind, name)


def _merge_lower_case_refs(bind: sa.engine.Connection, name: str) -> None:
    """Fold the rows of roll-up `name` whose ref has capitals into the row of the lower-case ref."""
    inspector = sa.inspect(bind)
    if name not in inspector.get_table_names():
        return
    columns = inspector.get_columns(name)
    key = list(inspector.get_pk_constraint(name)["constrained_columns"])
    counters = [c["name"] for c in columns if c["name"] not in key and c["name"] in _COUNTERS]
    others = [c["name"] for c in columns if c["name"] not in key and c["name"] not in counters]
    table = sa.table(name, *(sa.column(c["name"]) for c in columns))
    mixed = bind.execute(sa.select(table).where(table.c.ref != sa.func.lower(table.c.ref))).mappings().all()
    for row in mixed:
        target = {k: (row[k].lower() if k == "ref" else row[k]) for k in key}
        where = [table.c[k] == v for k, v in target.items()]
        existing = bind.execute(sa.select(table).where(*where)).mappings().first()
        if existing is None:
            bind.execute(sa.insert(table).values({**target, **{c: row[c] for c in counters + others}}))
        else:
            bind.execute(sa.update(table).where(*where).values(
                {c: (existing[c] or 0) + (row[c] or 0) for c in counters}))
        bind.execute(sa.delete(table).where(*[table.c[k] == row[k] for k in key]))


def downgrade() -> None:
    """Downgrade schema (refs stay lower case: the original spelling is not kept)."""
    op.drop_table('action_hour_counts')
