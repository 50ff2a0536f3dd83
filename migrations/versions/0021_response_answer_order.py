"""response.answer_order: when the candidate chose the answer (ms since the epoch, on the
server's clock as the page measured it), so a save replayed late never overwrites a newer one

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('response') as batch:
        batch.add_column(sa.Column('answer_order', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('response') as batch:
        batch.drop_column('answer_order')
