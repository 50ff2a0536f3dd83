"""The accreditation room's rules outside the workflow's steps (those live in
``accreditation.workflow``): provider organisations (``providers``), drafts (``drafts``),
coverage and completeness (``completeness``), evidence documents (``documents``), and
who sees what (``access``). Each use case commits its own unit of work."""

from accreditation.services.access import (
    assessors,
    content_open_to,
    is_member,
    require_application,
    require_own_application,
)
from accreditation.services.completeness import (
    AreaCoverage,
    coverage,
    leaf_codes,
    missing_parts,
    trainer_checks,
)
from accreditation.services.documents import (
    MAX_DOCUMENT_BYTES,
    documents,
    documents_count,
    documents_dir,
    store_document,
)
from accreditation.services.drafts import (
    check_mapping_codes,
    check_version,
    create_draft,
    get_renewal,
    renewal_content,
    save_draft,
    stored_content,
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

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "AreaCoverage",
    "answer_invitation",
    "assessors",
    "check_mapping_codes",
    "check_version",
    "content_open_to",
    "coverage",
    "create_draft",
    "documents",
    "documents_count",
    "documents_dir",
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
    "renewal_content",
    "require_application",
    "require_own_application",
    "save_draft",
    "save_organisation",
    "store_document",
    "stored_content",
    "trainer_checks",
]
