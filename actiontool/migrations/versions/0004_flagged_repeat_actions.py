"""actions.flagged_repeat and actions.identity_key

For finding 8 of the hardening issue: an e-mail address that already wrote to the same members comes
back with another name or street address; the new action is written under its own dedupe key and
flagged for organizers instead of being dropped (nobody can suppress another by using their address).
`identity_key` (a digest of the e-mail with the normalised name and street address) outlives the purge
of personal data so a repeat is still told apart afterwards; rows made earlier keep it empty.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:25:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Not batch_alter_table: on SQLite that copies `actions` into a new table and drops the old one, and
    # with foreign keys on, the drop cascades to every message. SQLite adds these columns in place.
    op.add_column('actions', sa.Column('flagged_repeat', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('actions', sa.Column('identity_key', sa.String(length=64), nullable=True))
    op.create_index('ix_actions_flagged_repeat', 'actions', ['campaign', 'flagged_repeat'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_actions_flagged_repeat', table_name='actions')
    # SQLite 3.35+ drops a column in place (no table copy, so no cascade); older SQLite refuses.
    op.drop_column('actions', 'identity_key')
    op.drop_column('actions', 'flagged_repeat')
