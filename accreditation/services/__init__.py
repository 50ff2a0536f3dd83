"""The accreditation room's rules outside the workflow's steps (those live in
``accreditation.workflow``): provider organisations (``providers``), drafts (``drafts``),
coverage and completeness (``completeness``), the form in
steps (``form_steps``), evidence documents (``documents``), and
who sees what (``access``). Each use case commits its own unit of work."""

from accreditation.services.access import (
    assessors,
    content_open_to,
    is_member,
    require_application,
    require_own_application,
)
from accreditation.services.completeness import (
    LOW_COVERAGE_PERCENT,
    AreaCoverage,
    StepKind,
    Summary,
    SummaryLine,
    coverage,
    leaf_codes,
    missing_parts,
    summary,
    trainer_checks,
    trainer_findings,
)
from accreditation.services.documents import documents, documents_count, store_document
from accreditation.services.drafts import (
    check_mapping_codes,
    check_version,
    chosen_programme,
    create_draft,
    get_renewal,
    programme_code,
    renewal_content,
    save_draft,
    stored_content,
)
from accreditation.services.form_steps import (
    FormStep,
    find_step,
    form_steps,
    save_step,
    step_done,
)
from accreditation.services.providers import (
    answer_invitation,
    get_invitation,
    get_membership,
    get_organisation_of,
    invite_member,
    members,
    organisation_fields,
    save_organisation,
)
from core.evidence import MAX_DOCUMENT_BYTES

__all__ = [
    "LOW_COVERAGE_PERCENT",
    "MAX_DOCUMENT_BYTES",
    "AreaCoverage",
    "FormStep",
    "StepKind",
    "Summary",
    "SummaryLine",
    "answer_invitation",
    "assessors",
    "check_mapping_codes",
    "check_version",
    "chosen_programme",
    "content_open_to",
    "coverage",
    "create_draft",
    "documents",
    "documents_count",
    "find_step",
    "form_steps",
    "get_invitation",
    "get_membership",
    "get_organisation_of",
    "get_renewal",
    "invite_member",
    "is_member",
    "leaf_codes",
    "members",
    "missing_parts",
    "organisation_fields",
    "programme_code",
    "renewal_content",
    "require_application",
    "require_own_application",
    "save_draft",
    "save_organisation",
    "save_step",
    "step_done",
    "store_document",
    "stored_content",
    "summary",
    "trainer_checks",
    "trainer_findings",
]
