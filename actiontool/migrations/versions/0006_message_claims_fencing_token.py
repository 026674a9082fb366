"""messages.claims: the fencing token of a delivery attempt

For finding 1 of the delivery-under-faults issue: each claim of a message increments `claims`, and a
worker records a failure, or renews its lease, only while the message still carries the token of its own
claim. Unlike `attempts`, it is never reset (Retry) nor given back (an attempt during a channel outage),
so an old claim can never pass for a new one. Rows made earlier start at 0.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30 08:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Not batch_alter_table: SQLite adds the column in place (a table copy would cascade deletes).
    op.add_column('messages', sa.Column('claims', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('messages', 'claims')
