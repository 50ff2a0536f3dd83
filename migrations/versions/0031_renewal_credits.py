"""renewal credits: continuing education logged towards renewing a certificate, and
certificates renewed by credits (no attempt of their own)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime


revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('certificate') as batch:
        batch.alter_column('attempt_id', existing_type=sa.Integer(), nullable=True)
    op.create_table(
        'certificate_renewal_credit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('provider', sa.String(length=200), nullable=False),
        sa.Column('activity_on', sa.Date(), nullable=False),
        sa.Column('credits', sa.Integer(), nullable=False),
        sa.Column('area', sa.String(length=60), nullable=False),
        sa.Column('evidence_filename', sa.String(length=200), nullable=False),
        sa.Column('evidence_size', sa.Integer(), nullable=False),
        sa.Column('evidence_sha256', sa.String(length=64), nullable=False),
        sa.Column('evidence_storage_name', sa.String(length=80), nullable=False),
        sa.Column('logged_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('review_reason', sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'accepted', 'rejected')",
            name=op.f('ck_certificate_renewal_credit_state'),
        ),
        sa.ForeignKeyConstraint(
            ['certificate_id'],
            ['certificate.id'],
            name=op.f('fk_certificate_renewal_credit_certificate_id_certificate'),
        ),
        sa.ForeignKeyConstraint(
            ['holder_id'],
            ['user_account.id'],
            name=op.f('fk_certificate_renewal_credit_holder_id_user_account'),
        ),
        sa.ForeignKeyConstraint(
            ['reviewed_by_id'],
            ['user_account.id'],
            name=op.f('fk_certificate_renewal_credit_reviewed_by_id_user_account'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_renewal_credit')),
        sa.UniqueConstraint(
            'evidence_storage_name',
            name=op.f('uq_certificate_renewal_credit_evidence_storage_name'),
        ),
    )
    op.create_index(
        op.f('ix_certificate_renewal_credit_certificate_id'),
        'certificate_renewal_credit',
        ['certificate_id'],
    )
    op.create_index(
        op.f('ix_certificate_renewal_credit_holder_id'),
        'certificate_renewal_credit',
        ['holder_id'],
    )


def downgrade() -> None:
    op.drop_index(
        op.f('ix_certificate_renewal_credit_holder_id'), table_name='certificate_renewal_credit'
    )
    op.drop_index(
        op.f('ix_certificate_renewal_credit_certificate_id'),
        table_name='certificate_renewal_credit',
    )
    op.drop_table('certificate_renewal_credit')
    # A certificate renewed by credits has no attempt: it cannot survive the downgrade.
    op.execute('DELETE FROM certificate_status_entry WHERE certificate_id IN '
               '(SELECT id FROM certificate WHERE attempt_id IS NULL)')
    op.execute('UPDATE certificate SET superseded_by_id = NULL WHERE superseded_by_id IN '
               '(SELECT id FROM certificate WHERE attempt_id IS NULL)')
    op.execute('DELETE FROM certificate WHERE attempt_id IS NULL')
    with op.batch_alter_table('certificate') as batch:
        batch.alter_column('attempt_id', existing_type=sa.Integer(), nullable=False)
