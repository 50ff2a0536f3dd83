"""The curriculum mapping's coverage of the standard, what stops a submission (in the
form's order, each pointing at its field), what a reviewer will question (low coverage,
unverified trainers), and the trainers' certificates."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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


# An area covered less than this is worth a second look before submitting; the rules
# accept any coverage whose gaps are explained, so it warns and does not block.
LOW_COVERAGE_PERCENT = 75
AREA_PREFIX = "area-"


class StepKind(StrEnum):
    """The steps of the application form, in their order."""

    PROGRAMME = "programme"
    TRAINERS = "trainers"
    AREA = "area"
    EVIDENCE = "evidence"
    DECLARATION = "declaration"
    SUMMARY = "summary"


# ---- the summary -------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryLine:
    """One thing to see to: the part of the content it is about (as the API names it),
    the step it belongs to and the field to jump to."""

    part: str
    step: str
    field: str
    message: str


@dataclass(frozen=True)
class TrainerFinding:
    verified: bool
    reason: str


def trainer_findings(session: Session, content: ApplicationContent) -> list[TrainerFinding]:
    """Per trainer: whether their certificate is verified, and if not, why. A trainer is
    verified when the code matches their family name (the last word of the name given)
    and the certificate is valid today: the same lookup an employer uses."""
    findings = []
    for trainer in content.trainers:
        words = trainer.name.split()
        family = words[-1] if words else ""
        code = trainer.certificate_code.strip()
        if not code:
            findings.append(TrainerFinding(False, "no certificate code given"))
            continue
        certificate = certificate_services.get_certificate_by_holder(session, code, family)
        if certificate is None:
            findings.append(
                TrainerFinding(False, f"no certificate {code} for family name {family}")
            )
            continue
        status = certificate_services.status(certificate)
        findings.append(
            TrainerFinding(
                status == CertificateStatus.VALID,
                "" if status == CertificateStatus.VALID else f"certificate {code} is {status}",
            )
        )
    return findings


def _entry(content: ApplicationContent, code: str) -> MappingEntry:
    return content.mapping.get(code) or MappingEntry()


@dataclass(frozen=True)
class Summary:
    missing: list[SummaryLine]
    warnings: list[SummaryLine]


def summary(session: Session, application: Application) -> Summary:
    """What stops submission, in the form's order, each pointing at its field; then what
    the rules let through but a reviewer will ask about (low coverage, unverified
    trainers), each with its reason."""
    content = ApplicationContent.model_validate(application.content)
    missing: list[SummaryLine] = []
    warnings: list[SummaryLine] = []

    def need(ok: bool, part: str, step: str, field: str, message: str) -> None:
        if not ok:
            missing.append(SummaryLine(part, step, field, message))

    def need_programme(ok: bool, part: str, message: str) -> None:
        need(ok, part, StepKind.PROGRAMME, part, message)

    need_programme(len(content.description) >= 20, "description", "Describe the programme.")
    need_programme(bool(content.delivery_mode), "delivery_mode", "Choose how it is delivered.")
    need_programme(bool(content.contact_hours), "contact_hours", "Give the contact hours.")
    need_programme(
        bool(content.learner_assessment), "learner_assessment", "Say how learners are assessed."
    )
    need(
        bool(content.trainers),
        "trainers",
        StepKind.TRAINERS,
        "trainer-0-name",
        "Name at least one trainer.",
    )
    for index, (trainer, finding) in enumerate(
        zip(content.trainers, trainer_findings(session, content), strict=True)
    ):
        if not finding.verified:
            warnings.append(
                SummaryLine(
                    "trainers",
                    StepKind.TRAINERS,
                    f"trainer-{index}-certificate",
                    f"{trainer.name} is not verified: {finding.reason}.",
                )
            )
    for area in coverage(session, application):
        slug = f"{AREA_PREFIX}{area.code}"
        unanswered = [leaf.code for leaf in area.leaves if not _entry(content, leaf.code).answered]
        if unanswered:
            shown = ", ".join(unanswered[:6]) + (" and more" if len(unanswered) > 6 else "")
            missing.append(
                SummaryLine(
                    "mapping",
                    slug,
                    f"map-{unanswered[0]}-module",
                    f"{area.title} ({area.code}): {len(unanswered)} of {len(area.leaves)} "
                    "competencies have "
                    f"neither a module nor a reason ({shown}).",
                )
            )
        elif area.percent < LOW_COVERAGE_PERCENT:  # every gap explained, yet many gaps
            warnings.append(
                SummaryLine(
                    "mapping",
                    slug,
                    "coverage",
                    f"{area.title} ({area.code}) is {area.percent}% covered ({area.covered} of "
                    f"{len(area.leaves)} competencies), below the {LOW_COVERAGE_PERCENT}% "
                    "a reviewer expects; each gap needs its reason.",
                )
            )
    need(
        documents_count(session, application.id) > 0,
        "documents",
        StepKind.EVIDENCE,
        "file",
        "Attach the evidence (PDF).",
    )
    need(
        content.declaration_accepted,
        "declaration_accepted",
        StepKind.DECLARATION,
        "declaration_accepted",
        "Accept the declaration.",
    )
    return Summary(missing, warnings)


def missing_parts(session: Session, application: Application) -> list[FieldError]:
    """What stops submission, each named by the part of the content it is about."""
    return [FieldError(line.part, line.message) for line in summary(session, application).missing]


def trainer_checks(session: Session, content: ApplicationContent) -> list[bool]:
    return [finding.verified for finding in trainer_findings(session, content)]
