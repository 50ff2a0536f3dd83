"""psychometrics: Rasch calibration runs, each item version's calibration, and the
background candidates give with consent

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime


revision: str = '0024'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'calibration_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('blueprint_id', sa.Integer(), nullable=False),
        sa.Column('sitting_id', sa.Integer(), nullable=True),
        sa.Column('run_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('run_by', sa.Integer(), nullable=True),
        sa.Column('persons', sa.Integer(), nullable=False),
        sa.Column('responses', sa.Integer(), nullable=False),
        sa.Column('population_mean', sa.Float(), nullable=False),
        sa.Column('population_sd', sa.Float(), nullable=False),
        sa.Column('log_likelihood', sa.Float(), nullable=False),
        sa.Column('converged', sa.Boolean(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('person_bands', sa.JSON(), nullable=False),
        sa.Column('left_out', sa.JSON(), nullable=False),
        sa.Column('form_spread', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['blueprint_id'], ['blueprint.id'], name=op.f('fk_calibration_run_blueprint_id_blueprint')),
        sa.ForeignKeyConstraint(['sitting_id'], ['sitting.id'], name=op.f('fk_calibration_run_sitting_id_sitting')),
        sa.ForeignKeyConstraint(['run_by'], ['user_account.id'], name=op.f('fk_calibration_run_run_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_run')),
    )
    op.create_index('ix_calibration_run_blueprint_id', 'calibration_run', ['blueprint_id'])
    op.create_table(
        'item_calibration',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('item_version_id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('p_value', sa.Float(), nullable=False),
        sa.Column('difficulty', sa.Float(), nullable=False),
        sa.Column('se', sa.Float(), nullable=False),
        sa.Column('infit', sa.Float(), nullable=False),
        sa.Column('outfit', sa.Float(), nullable=False),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['calibration_run.id'], name=op.f('fk_item_calibration_run_id_calibration_run'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['item_version_id'], ['item_version.id'], name=op.f('fk_item_calibration_item_version_id_item_version')),
        sa.PrimaryKeyConstraint('run_id', 'item_version_id', name=op.f('pk_item_calibration')),
    )
    op.create_index('ix_item_calibration_item_version_id', 'item_calibration', ['item_version_id'])
    op.create_table(
        'candidate_background',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('first_language', sa.String(length=20), nullable=False),
        sa.Column('region', sa.String(length=20), nullable=False),
        sa.Column('consented_at', UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("first_language IN ('english', 'other', '')", name=op.f('ck_candidate_background_first_language')),
        sa.CheckConstraint("region IN ('africa', 'asia_pacific', 'europe', 'latin_america', 'middle_east', 'north_america', '')", name=op.f('ck_candidate_background_region')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_candidate_background_user_id_user_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_candidate_background')),
    )


def downgrade() -> None:
    op.drop_table('candidate_background')
    op.drop_index('ix_item_calibration_item_version_id', table_name='item_calibration')
    op.drop_table('item_calibration')
    op.drop_index('ix_calibration_run_blueprint_id', table_name='calibration_run')
    op.drop_table('calibration_run')
