"""pretest items: items tried out unscored on live forms before they count

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pretest_item',
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('blueprint_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('added_by', sa.Integer(), nullable=True),
        sa.Column('added_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('pretest', 'promoted', 'dropped')", name=op.f('ck_pretest_item_status')),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_pretest_item_item_id_item')),
        sa.ForeignKeyConstraint(['blueprint_id'], ['blueprint.id'], name=op.f('fk_pretest_item_blueprint_id_blueprint')),
        sa.ForeignKeyConstraint(['added_by'], ['user_account.id'], name=op.f('fk_pretest_item_added_by_user_account')),
        sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_pretest_item_decided_by_user_account')),
        sa.PrimaryKeyConstraint('item_id', name=op.f('pk_pretest_item')),
    )
    op.create_index(op.f('ix_pretest_item_blueprint_id'), 'pretest_item', ['blueprint_id'])
    with op.batch_alter_table('attempt_item') as batch:
        batch.add_column(sa.Column('pretest', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('prepared_form') as batch:
        batch.add_column(sa.Column('pretest_positions', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('prepared_form') as batch:
        batch.drop_column('pretest_positions')
    with op.batch_alter_table('attempt_item') as batch:
        batch.drop_column('pretest')
    op.drop_index(op.f('ix_pretest_item_blueprint_id'), table_name='pretest_item')
    op.drop_table('pretest_item')
