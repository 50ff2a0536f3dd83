"""scaled scores: an attempt's Rasch measure and its score on the blueprint's scale

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attempt_result') as batch:
        batch.add_column(sa.Column('measure', sa.Float(), nullable=True))
        batch.add_column(sa.Column('scaled_score', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('scale_cut', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attempt_result') as batch:
        batch.drop_column('scale_cut')
        batch.drop_column('scaled_score')
        batch.drop_column('measure')
