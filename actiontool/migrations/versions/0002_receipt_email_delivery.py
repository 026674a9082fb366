"""receipt e-mail delivery: origin for the link, attempts, lease/backoff, due index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('actions', sa.Column('receipt_base_url', sa.String(length=255), nullable=True))
    op.add_column('actions', sa.Column('receipt_email_attempts', sa.Integer(), server_default='0',
                                       nullable=False))
    op.add_column('actions', sa.Column('receipt_email_next_at', sa.DateTime(), nullable=True))
    op.create_index('ix_actions_receipt_due', 'actions', ['wants_receipt_email', 'receipt_email_sent_at'],
                    unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_actions_receipt_due', table_name='actions')
    with op.batch_alter_table('actions') as batch:
        batch.drop_column('receipt_email_next_at')
        batch.drop_column('receipt_email_attempts')
        batch.drop_column('receipt_base_url')
