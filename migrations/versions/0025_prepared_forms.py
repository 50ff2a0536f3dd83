"""prepared forms: a form drawn at admission, so that starting is a short insert

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime


revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'prepared_form',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('blueprint_version_id', sa.Integer(), nullable=True),
        sa.Column('seed', sa.BigInteger(), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('drawn_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('problem', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['blueprint_version_id'], ['blueprint_version.id'], name=op.f('fk_prepared_form_blueprint_version_id_blueprint_version')),
        sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_prepared_form_registration_id_registration'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_prepared_form')),
        sa.UniqueConstraint('registration_id', name=op.f('uq_prepared_form_registration_id')),
    )
    with op.batch_alter_table('sitting') as batch:
        batch.add_column(sa.Column('start_spread_minutes', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('registration') as batch:
        batch.add_column(sa.Column('start_not_before', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('registration') as batch:
        batch.drop_column('start_not_before')
    with op.batch_alter_table('sitting') as batch:
        batch.drop_column('start_spread_minutes')
    op.drop_table('prepared_form')
