"""prepared form questions: the questions of a form drawn at admission, kept with it so
the start answers without reading the bank

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0032'
down_revision: str | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('prepared_form') as batch:
        batch.add_column(sa.Column('shown', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('prepared_form') as batch:
        batch.drop_column('shown')
