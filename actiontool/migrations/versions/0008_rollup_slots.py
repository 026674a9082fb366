"""Roll-up rows carry a slot: `slot` joins the primary key of every count table

Issue 17: on PostgreSQL every submit of a campaign updated the same `campaign_counts` row (and the same
day × senator rows), so submits queued on one row lock. Writers now add to one of 64 slots per key and
readers sum the slots (services.counts). Existing rows become slot 0, so every count stays as it was;
later changes land in their action's slot and the sums stay exact. Downgrade adds the slots of each key
back into one row.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30 08:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STATUSES = ('queued', 'sending', 'delivered', 'needs_constituent', 'handed_off', 'failed')
MEMBER_EXTRA = ('state', 'district', 'chamber', 'member_name')
# table: (key columns, columns that depend on the key, counters)
TABLES = {
    'message_counts': (('campaign', 'day', 'bioguide', 'ref', 'channel'), MEMBER_EXTRA, STATUSES),
    'message_counts_by_member': (('campaign', 'day', 'bioguide', 'channel'), MEMBER_EXTRA, STATUSES),
    'message_counts_by_source': (('campaign', 'day', 'state', 'ref', 'channel'), (), STATUSES),
    'action_counts': (('campaign', 'day', 'state', 'district_label', 'ref'), (), ('n',)),
    'campaign_counts': (('campaign',), ('updated_at',), ('actions', 'constituents', *STATUSES)),
}


def upgrade() -> None:
    """Upgrade schema."""
    # The count tables have no foreign keys, so SQLite's batch copy of each is safe.
    for table, (key, _extra, _counters) in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('slot', sa.Integer(), server_default='0', nullable=False))
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', [*key, 'slot'])


def downgrade() -> None:
    """Downgrade schema."""
    for table, (key, extra, counters) in TABLES.items():
        merged = f'{table}_merged'
        columns = ', '.join(key)
        picked = ', '.join([*key, *(f'MAX({c}) AS {c}' for c in extra), *(f'SUM({c}) AS {c}' for c in counters)])
        names = ', '.join([*key, *extra, *counters])
        op.execute(f'CREATE TABLE {merged} AS SELECT {picked} FROM {table} GROUP BY {columns}')
        op.execute(f'DELETE FROM {table}')
        op.execute(f'INSERT INTO {table} ({names}, slot) SELECT {names}, 0 FROM {merged}')
        op.execute(f'DROP TABLE {merged}')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', list(key))
            batch_op.drop_column('slot')
