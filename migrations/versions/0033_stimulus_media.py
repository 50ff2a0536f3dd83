"""scenario media: the exhibits (images, audio) a scenario version shows after its passage

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0033'
down_revision: str | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stimulus_version_media',
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('alt', sa.Text(), nullable=False),
        sa.Column('transcript', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['sha256'], ['media_file.sha256'], name=op.f('fk_stimulus_version_media_sha256_media_file')),
        sa.ForeignKeyConstraint(['version_id'], ['stimulus_version.id'], name=op.f('fk_stimulus_version_media_version_id_stimulus_version'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('version_id', 'position', name=op.f('pk_stimulus_version_media')),
    )
    op.create_index(op.f('ix_stimulus_version_media_sha256'), 'stimulus_version_media', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_stimulus_version_media_sha256'), table_name='stimulus_version_media')
    op.drop_table('stimulus_version_media')
