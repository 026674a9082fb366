"""message_counts: index (campaign, ref, state, district) for views by member or district of one source

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 21:40:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index('ix_message_counts_ref', table_name='message_counts')
    op.create_index('ix_message_counts_ref', 'message_counts', ['campaign', 'ref', 'state', 'district'],
                    unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_message_counts_ref', table_name='message_counts')
    op.create_index('ix_message_counts_ref', 'message_counts', ['campaign', 'ref'], unique=False)
