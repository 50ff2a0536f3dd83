"""item media: files stored once by content, and the media of each item version

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'media_file',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('image', 'audio')", name=op.f('ck_media_file_kind')),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_media_file')),
    )
    op.create_table(
        'item_version_media',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('alt', sa.Text(), nullable=False),
        sa.Column('transcript', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['sha256'], ['media_file.sha256'], name=op.f('fk_item_version_media_sha256_media_file')),
        sa.ForeignKeyConstraint(['version_id'], ['item_version.id'], name=op.f('fk_item_version_media_version_id_item_version'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('version_id', 'position', name=op.f('pk_item_version_media')),
    )
    op.create_index(op.f('ix_item_version_media_sha256'), 'item_version_media', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_item_version_media_sha256'), table_name='item_version_media')
    op.drop_table('item_version_media')
    op.drop_table('media_file')
