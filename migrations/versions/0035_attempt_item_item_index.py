"""attempt item item index: dropped; every read of a form's items goes through the attempt
(its key) or the item version, and the index cost the start sixty scattered page writes

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 00:30:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0035'
down_revision: str | None = '0034'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attempt_item') as batch:
        batch.drop_index('ix_attempt_item_item_id')


def downgrade() -> None:
    with op.batch_alter_table('attempt_item') as batch:
        batch.create_index('ix_attempt_item_item_id', ['item_id'], unique=False)
