"""application programme: the certification programme a training programme prepares for

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accreditation_application') as batch:
        batch.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_accreditation_application_programme_id_programme'),
            'programme',
            ['programme_id'],
            ['id'],
        )
    # Applications made before: the first programme on the framework they were mapped to.
    op.execute(
        'UPDATE accreditation_application SET programme_id = ('
        'SELECT MIN(programme.id) FROM programme '
        'WHERE programme.framework_id = accreditation_application.framework_id)'
    )


def downgrade() -> None:
    with op.batch_alter_table('accreditation_application') as batch:
        batch.drop_constraint(
            op.f('fk_accreditation_application_programme_id_programme'), type_='foreignkey'
        )
        batch.drop_column('programme_id')
