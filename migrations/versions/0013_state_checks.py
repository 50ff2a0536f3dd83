"""states kept to the values the code knows (CHECK constraints)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 21:15:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each state column and the values it may hold, frozen as they were when this ran.
CHECKS: dict[str, list[tuple[str, str]]] = {
    'accreditation_application': [
        ('ck_accreditation_application_recommendation', "recommendation IN ('accredit', 'accredit_with_conditions', 'refuse', '')"),
        ('ck_accreditation_application_appealed_from', "appealed_from IN ('draft', 'submitted', 'screening', 'returned_incomplete', 'under_review', 'clarification_requested', 'recommended', 'accredited', 'accredited_with_conditions', 'refused', 'suspended', 'withdrawn', 'renewal_due', 'expired', 'appealed', '')"),
        ('ck_accreditation_application_state', "state IN ('draft', 'submitted', 'screening', 'returned_incomplete', 'under_review', 'clarification_requested', 'recommended', 'accredited', 'accredited_with_conditions', 'refused', 'suspended', 'withdrawn', 'renewal_due', 'expired', 'appealed')"),
    ],
    'framework_node': [
        ('ck_framework_node_kind', "kind IN ('part', 'section', 'area', 'competency')"),
    ],
    'item_version': [
        ('ck_item_version_status', "status IN ('draft', 'in_review', 'approved', 'retired', 'superseded')"),
        ('ck_item_version_type', "type IN ('single_choice', 'multiple_response', 'true_false')"),
        ('ck_item_version_cognitive_level', "cognitive_level IN ('recall', 'application', 'analysis')"),
    ],
    'sitting': [
        ('ck_sitting_mode', "mode IN ('online', 'test_centre')"),
    ],
    'item_comment': [
        ('ck_item_comment_action', "action IN ('submit', 'withdraw', 'approve', 'return', 'retire')"),
    ],
    'registration': [
        ('ck_registration_status', "status IN ('registered', 'checked_in', 'admitted', 'turned_away', 'cancelled', 'started')"),
    ],
    'scoring_decision': [
        ('ck_scoring_decision_action', "action IN ('do_not_score', 'correct_key')"),
    ],
    'accommodation': [
        ('ck_accommodation_status', "status IN ('requested', 'approved', 'denied')"),
    ],
    'attempt': [
        ('ck_attempt_result', "result IN ('pass', 'fail', 'void')"),
        ('ck_attempt_status', "status IN ('in_progress', 'paused', 'submitted', 'expired', 'terminated')"),
    ],
    'appeal': [
        ('ck_appeal_remedy', "remedy IN ('void', 'rescore', 'none', '')"),
        ('ck_appeal_status', "status IN ('submitted', 'upheld', 'denied')"),
    ],
    'attempt_result': [
        ('ck_attempt_result_result', "result IN ('pass', 'fail', 'void')"),
    ],
    'certificate': [
        ('ck_certificate_revocation_reason', "revocation_reason IN ('misconduct', 'rescoring', 'issued_in_error', '')"),
    ],
}


def upgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks:
                batch_op.create_check_constraint(op.f(name), condition)


def downgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _condition in checks:
                batch_op.drop_constraint(op.f(name), type_="check")
