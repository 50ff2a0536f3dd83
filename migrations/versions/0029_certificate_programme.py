"""certificate programme: the version of the programme whose credential a certificate is

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02 23:30:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('certificate') as batch:
        batch.add_column(sa.Column('programme_version_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_certificate_programme_version_id_programme_version'),
            'programme_version',
            ['programme_version_id'],
            ['id'],
        )
    _link_issued_certificates()


def _link_issued_certificates() -> None:
    """Certificates issued before: the latest version of the programme that lists their
    blueprint (the wording they carry is kept as it was issued)."""
    bind = op.get_bind()
    latest: dict[str, int] = {}
    rows = bind.execute(sa.text('SELECT id, programme_id, number, spec FROM programme_version'))
    newest: dict[int, tuple[int, int, object]] = {}
    for version_id, programme_id, number, spec in rows:
        if programme_id not in newest or number > newest[programme_id][0]:
            newest[programme_id] = (number, version_id, spec)
    for _number, version_id, spec in newest.values():
        rules = json.loads(spec) if isinstance(spec, str) else spec
        for blueprint in rules.get('blueprints', []):
            latest.setdefault(blueprint, version_id)
    for blueprint, version_id in latest.items():
        bind.execute(
            sa.text(
                'UPDATE certificate SET programme_version_id = :version '
                'WHERE blueprint_code = :blueprint AND programme_version_id IS NULL'
            ),
            {'version': version_id, 'blueprint': blueprint},
        )


def downgrade() -> None:
    with op.batch_alter_table('certificate') as batch:
        batch.drop_constraint(
            op.f('fk_certificate_programme_version_id_programme_version'), type_='foreignkey'
        )
        batch.drop_column('programme_version_id')
