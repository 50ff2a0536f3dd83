"""The curriculum mapping's coverage of the standard, what stops a submission, and the
trainers' certificates."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from accreditation.models import Application
from accreditation.schemas import ApplicationContent, MappingEntry
from accreditation.services.documents import documents_count
from certificates import services as certificate_services
from certificates.models import CertificateStatus
from core.errors import FieldError
from item_bank.frameworks import nodes_by_code
from item_bank.models import FrameworkNode


def leaf_codes(session: Session, framework_id: int) -> list[str]:
    nodes = nodes_by_code(session, framework_id)
    return sorted(code for code, node in nodes.items() if node.kind == "competency")


@dataclass(frozen=True)
class AreaCoverage:
    code: str
    title: str
    leaves: list[FrameworkNode]
    covered: int

    @property
    def percent(self) -> int:
        return round(100 * self.covered / len(self.leaves)) if self.leaves else 0


def coverage(session: Session, application: Application) -> list[AreaCoverage]:
    """Per area of the standard: its competencies and how many the programme covers."""
    nodes = nodes_by_code(session, application.framework_id)
    by_id = {node.id: node for node in nodes.values()}
    content = ApplicationContent.model_validate(application.content)
    areas: dict[int, list[FrameworkNode]] = {}
    for node in sorted(nodes.values(), key=lambda n: (n.position, n.code)):
        if node.kind == "competency" and node.parent_id is not None:
            areas.setdefault(node.parent_id, []).append(node)
    result = []
    for area_id, leaves in areas.items():
        area = by_id[area_id]
        covered = sum(1 for leaf in leaves if _entry(content, leaf.code).covered)
        result.append(AreaCoverage(area.code, area.title, leaves, covered))
    order = {node.code: node.position for node in nodes.values()}
    return sorted(result, key=lambda a: order[a.code])


def _entry(content: ApplicationContent, code: str) -> MappingEntry:
    return content.mapping.get(code) or MappingEntry()


def missing_parts(session: Session, application: Application) -> list[FieldError]:
    """What stops submission, each named so the provider can find it."""
    content = ApplicationContent.model_validate(application.content)
    missing: list[FieldError] = []

    def need(condition: bool, field: str, message: str) -> None:
        if not condition:
            missing.append(FieldError(field, message))

    need(len(content.description) >= 20, "description", "Describe the programme.")
    need(bool(content.delivery_mode), "delivery_mode", "Choose how it is delivered.")
    need(bool(content.contact_hours), "contact_hours", "Give the contact hours.")
    need(bool(content.learner_assessment), "learner_assessment", "Say how learners are assessed.")
    need(bool(content.trainers), "trainers", "Name at least one trainer.")
    unanswered = [
        code
        for code in leaf_codes(session, application.framework_id)
        if not _entry(content, code).answered
    ]
    if unanswered:
        shown = ", ".join(unanswered[:8]) + (" and more" if len(unanswered) > 8 else "")
        missing.append(
            FieldError(
                "mapping",
                f"{len(unanswered)} competencies have neither a module nor a reason: {shown}.",
            )
        )
    need(documents_count(session, application.id) > 0, "documents", "Attach the evidence (PDF).")
    need(content.declaration_accepted, "declaration_accepted", "Accept the declaration.")
    return missing


def trainer_checks(session: Session, content: ApplicationContent) -> list[bool]:
    """A trainer is verified when their certificate code matches their family name and
    the certificate is valid today (the same lookup an employer uses)."""
    checks = []
    for trainer in content.trainers:
        family = trainer.name.split()[-1] if trainer.name.split() else ""
        certificate = (
            certificate_services.get_certificate_by_holder(
                session, trainer.certificate_code, family
            )
            if trainer.certificate_code
            else None
        )
        checks.append(
            certificate is not None
            and certificate_services.status(certificate) == CertificateStatus.VALID
        )
    return checks
