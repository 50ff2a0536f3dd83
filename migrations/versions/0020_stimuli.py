"""shared stimuli: passages in versions, and the item versions written on them

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stimulus',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ref', sa.String(length=64), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_stimulus_created_by_user_account')),
        sa.ForeignKeyConstraint(['framework_id'], ['framework.id'], name=op.f('fk_stimulus_framework_id_framework')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stimulus')),
        sa.UniqueConstraint('ref', name=op.f('uq_stimulus_ref')),
    )
    op.create_index('ix_stimulus_framework_id', 'stimulus', ['framework_id'])
    op.create_table(
        'stimulus_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stimulus_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_stimulus_version_created_by_user_account')),
        sa.ForeignKeyConstraint(['stimulus_id'], ['stimulus.id'], name=op.f('fk_stimulus_version_stimulus_id_stimulus')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stimulus_version')),
        sa.UniqueConstraint('stimulus_id', 'number', name=op.f('uq_stimulus_version_stimulus_id')),
    )
    op.create_index('ix_stimulus_version_stimulus_id', 'stimulus_version', ['stimulus_id'])
    with op.batch_alter_table('item_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stimulus_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stimulus_position', sa.Integer(), nullable=True))
        batch_op.create_index('ix_item_version_stimulus_version_id', ['stimulus_version_id'])
        batch_op.create_foreign_key(
            'fk_item_version_stimulus_version_id_stimulus_version',
            'stimulus_version',
            ['stimulus_version_id'],
            ['id'],
        )


def downgrade() -> None:
    with op.batch_alter_table('item_version', schema=None) as batch_op:
        batch_op.drop_constraint(
            'fk_item_version_stimulus_version_id_stimulus_version', type_='foreignkey'
        )
        batch_op.drop_index('ix_item_version_stimulus_version_id')
        batch_op.drop_column('stimulus_position')
        batch_op.drop_column('stimulus_version_id')
    op.drop_index('ix_stimulus_version_stimulus_id', table_name='stimulus_version')
    op.drop_table('stimulus_version')
    op.drop_index('ix_stimulus_framework_id', table_name='stimulus')
    op.drop_table('stimulus')
