"""prepared form rendered: the questions of a form drawn at admission as the candidate's
browser receives them (option ids included), so the start sends stored text

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0034'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('prepared_form') as batch:
        batch.add_column(sa.Column('rendered', sa.Text(), nullable=True))
        batch.add_column(
            sa.Column('rendered_key', sa.String(length=16), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('prepared_form') as batch:
        batch.drop_column('rendered_key')
        batch.drop_column('rendered')
