"""funnel_counts: anonymous page views, ZIP lookups and letter forms shown per campaign, day and source

For the organizers' funnel (issue 15): counted in each web process's memory and added in batches
(services/funnel.py), never one write per page view. `slot` (always 0 for now) is part of the key so the
table can later spread a busy campaign's increments over several rows, as the other roll-ups may.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 08:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'funnel_counts',
        sa.Column('campaign', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('ref', sa.String(length=64), nullable=False),
        sa.Column('slot', sa.SmallInteger(), nullable=False),
        sa.Column('views', sa.Integer(), nullable=False),
        sa.Column('lookups', sa.Integer(), nullable=False),
        sa.Column('forms', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('campaign', 'day', 'ref', 'slot', name=op.f('pk_funnel_counts')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('funnel_counts')
