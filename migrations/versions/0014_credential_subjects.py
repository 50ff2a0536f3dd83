"""credential subjects: a random, stable identifier per holder

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 23:50:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import core.db


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'certificate_credential_subject',
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.String(length=45), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['holder_id'], ['user_account.id'],
            name=op.f('fk_certificate_credential_subject_holder_id_user_account'),
        ),
        sa.PrimaryKeyConstraint('holder_id', name=op.f('pk_certificate_credential_subject')),
        sa.UniqueConstraint('subject_id', name=op.f('uq_certificate_credential_subject_subject_id')),
    )
    # Holders of certificates issued before get theirs now, so every credential names one.
    bind = op.get_bind()
    now: object = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    holders = bind.execute(sa.text("SELECT DISTINCT holder_id FROM certificate")).scalars()
    for holder_id in list(holders):
        bind.execute(
            sa.text(
                "INSERT INTO certificate_credential_subject (holder_id, subject_id, created_at)"
                " VALUES (:holder, :subject, :now)"
            ),
            {"holder": holder_id, "subject": f"urn:uuid:{uuid.uuid4()}", "now": now},
        )


def downgrade() -> None:
    op.drop_table('certificate_credential_subject')
