"""item versions: shuffle, fixed options and a label

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Versions written before keep what assembly did with them: every option shuffled
    # (true/false in its order), none fixed, no label.
    with op.batch_alter_table('item_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shuffle', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('fixed', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('label', sa.String(length=256), nullable=False, server_default=''))
    with op.batch_alter_table('item_version', schema=None) as batch_op:
        batch_op.alter_column('shuffle', server_default=None)
        batch_op.alter_column('fixed', server_default=None)
        batch_op.alter_column('label', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('item_version', schema=None) as batch_op:
        batch_op.drop_column('label')
        batch_op.drop_column('fixed')
        batch_op.drop_column('shuffle')
