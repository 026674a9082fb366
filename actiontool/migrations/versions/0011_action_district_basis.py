"""actions.district_basis

For issue 11: how an action's district was decided (zip, address, location or choice), so organizers
can tell a district settled by the street address from one the constituent picked. Only the word is
kept, never an address's coordinates. Rows made earlier keep it empty.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 08:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Added in place (not batch_alter_table): see 0004 on why a table copy would cascade to messages.
    op.add_column('actions', sa.Column('district_basis', sa.String(length=10), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('actions', 'district_basis')
