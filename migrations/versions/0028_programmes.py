"""programmes: credentials as data, and the proficiency levels of a framework

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime


revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'programme',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=60), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['framework_id'], ['framework.id'], name=op.f('fk_programme_framework_id_framework')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_programme')),
        sa.UniqueConstraint('code', name=op.f('uq_programme_code')),
    )
    op.create_table(
        'programme_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('spec', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_version_programme_id_programme')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_version')),
        sa.UniqueConstraint('programme_id', 'number', name=op.f('uq_programme_version_programme_id')),
    )
    op.create_index(op.f('ix_programme_version_programme_id'), 'programme_version', ['programme_id'])
    with op.batch_alter_table('framework') as batch:
        batch.add_column(sa.Column('levels', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('framework_node') as batch:
        batch.add_column(sa.Column('expects', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('framework_node') as batch:
        batch.drop_column('expects')
    with op.batch_alter_table('framework') as batch:
        batch.drop_column('levels')
    op.drop_index(op.f('ix_programme_version_programme_id'), table_name='programme_version')
    op.drop_table('programme_version')
    op.drop_table('programme')

