"""coarser message roll-ups: by member and day, by source and day (dashboard speed at 1M messages)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 21:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_STATUSES = ('queued', 'sending', 'delivered', 'needs_constituent', 'handed_off', 'failed')


def _status_columns() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in _STATUSES]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('message_counts_by_member',
    sa.Column('campaign', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bioguide', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('district', sa.Integer(), nullable=True),
    sa.Column('chamber', sa.String(length=6), nullable=False),
    sa.Column('member_name', sa.String(length=200), nullable=False),
    *_status_columns(),
    sa.PrimaryKeyConstraint('campaign', 'day', 'bioguide', 'channel', name=op.f('pk_message_counts_by_member'))
    )
    op.create_index('ix_message_counts_by_member_state', 'message_counts_by_member',
                    ['campaign', 'state', 'district'], unique=False)
    op.create_table('message_counts_by_source',
    sa.Column('campaign', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    *_status_columns(),
    sa.PrimaryKeyConstraint('campaign', 'day', 'state', 'ref', 'channel', name=op.f('pk_message_counts_by_source'))
    )
    op.create_index('ix_message_counts_by_source_ref', 'message_counts_by_source', ['campaign', 'ref'],
                    unique=False)
    # Existing messages: fill the new roll-ups from the finest one, which already counts them all.
    sums = ', '.join(f'SUM({s})' for s in _STATUSES)
    cols = ', '.join(_STATUSES)
    op.execute(f"INSERT INTO message_counts_by_member (campaign, day, bioguide, channel, state, district, chamber, "
               f"member_name, {cols}) SELECT campaign, day, bioguide, channel, MAX(state), MAX(district), "
               f"MAX(chamber), MAX(member_name), {sums} FROM message_counts GROUP BY campaign, day, bioguide, channel")
    op.execute(f"INSERT INTO message_counts_by_source (campaign, day, state, ref, channel, {cols}) "
               f"SELECT campaign, day, state, ref, channel, {sums} FROM message_counts "
               f"GROUP BY campaign, day, state, ref, channel")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_message_counts_by_source_ref', table_name='message_counts_by_source')
    op.drop_table('message_counts_by_source')
    op.drop_index('ix_message_counts_by_member_state', table_name='message_counts_by_member')
    op.drop_table('message_counts_by_member')
