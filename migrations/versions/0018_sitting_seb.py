"""sittings that require Safe Exam Browser, with their Config Key and Browser Exam Keys

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db


revision: str = '0018'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sitting_seb',
        sa.Column('sitting_id', sa.Integer(), nullable=False),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('config_key', sa.String(length=64), nullable=False),
        sa.Column('browser_exam_keys', sa.JSON(), nullable=False),
        sa.Column('config_file', sa.LargeBinary(), nullable=True),
        sa.Column('config_filename', sa.String(length=150), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['sitting_id'], ['sitting.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by'], ['user_account.id']),
        sa.PrimaryKeyConstraint('sitting_id'),
    )


def downgrade() -> None:
    op.drop_table('sitting_seb')
