"""The accreditation API's JSON bodies: each a model that the handler sends and the OpenAPI
document shows, built here from stored objects."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from accreditation import queue, services, workflow
from accreditation.models import (
    STATE_LABELS,
    Action,
    Application,
    EvidenceDocument,
    Organisation,
    State,
)
from accreditation.schemas import ApplicationContent
from accreditation.workflow import Waiting
from core.api import Day, Moment, ResponseModel
from core.auth import Actor
from core.paging import Page


class OrganisationOut(ResponseModel):
    id: int
    legal_name: str
    country: str
    website: str
    contact_name: str
    contact_email: str


class ApplicationSummary(ResponseModel):
    """An application as the queue lists it."""

    id: int
    title: str
    state: State
    state_label: str
    version: int = Field(description="Send it back with a step or a save (409 if stale).")
    organisation_id: int
    programme: str | None = Field(description="The certification programme it prepares for.")
    renews: int | None
    submitted_at: Moment | None
    assessor_id: int | None
    working_days_waiting: int = Field(
        description="Whole working days from submission to first review, less the time"
        " the file was back with the provider; a day counts once it has passed, as the"
        " queue page shows."
    )
    clock: workflow.ClockState = Field(
        description="running: waiting on the association; paused: back with the provider;"
        " stopped: first reviewed; closed: left the queue before a first review"
        " (withdrawn, say). Stopped and closed figures no longer grow."
    )
    overdue: bool
    accreditation_number: str | None
    accredited_from: Day | None
    accredited_until: Day | None
    allowed_steps: list[Action] = Field(description="The steps the caller may take now.")


class AreaCoverage(ResponseModel):
    area: str
    title: str
    covered: int
    competencies: int
    percent: int


class MissingPart(ResponseModel):
    field: str
    message: str


class StoredDocument(ResponseModel):
    id: int
    filename: str
    size: int


class DocumentOut(StoredDocument):
    sha256: str


class ApplicationOut(ApplicationSummary):
    """One application; its content and what follows from it only for those who may read
    the content (the provider, leads, its assessor once cleared)."""

    content: ApplicationContent | None = Field(
        default=None, description="As stored: unanswered mapping rows are left out."
    )
    coverage: list[AreaCoverage] | None = None
    missing: list[MissingPart] | None = Field(default=None, description="What stops submission.")
    warnings: list[MissingPart] | None = Field(
        default=None,
        description="What the rules let through but an assessor will ask about (low "
        "coverage, unverified trainers), each with its reason.",
    )
    documents: list[DocumentOut] | None = None


class Posted(ResponseModel):
    posted: Literal[True]


class QueuePage(ResponseModel):
    total: int
    page: int
    pages: int
    counts: dict[str, int] = Field(description="Submitted applications per state.")
    applications: list[ApplicationSummary]


class RegisterEntry(ResponseModel):
    accreditation_number: str
    programme: str
    prepares_for: str | None = Field(
        default=None, description="The code of the certification programme it prepares for."
    )
    provider: str
    country: str
    website: str
    delivery_mode: str
    status: str
    accredited_from: Day | None
    accredited_until: Day | None


class RegisterPage(ResponseModel):
    total: int
    page: int
    entries: list[RegisterEntry]


OPENAPI_MODELS = (
    OrganisationOut,
    ApplicationOut,
    StoredDocument,
    Posted,
    QueuePage,
    RegisterPage,
)


def organisation_out(organisation: Organisation) -> OrganisationOut:
    return OrganisationOut.of(organisation)


def application_summary(
    session: Session, actor: Actor, application: Application, waiting: Waiting | None = None
) -> ApplicationSummary:
    steps = workflow.allowed_steps(session, actor, application)
    waiting = waiting or workflow.clocks(session, [application])[application.id]
    return ApplicationSummary.of(
        application,
        state_label=STATE_LABELS[application.state],
        programme=services.programme_code(session, application),
        renews=application.renews_id,
        working_days_waiting=waiting.days,
        clock=waiting.state,
        overdue=workflow.overdue(application),
        allowed_steps=[step.action for step in steps],
    )


def application_out(session: Session, actor: Actor, application: Application) -> ApplicationOut:
    summary = dict(application_summary(session, actor, application))
    if not services.content_open_to(actor, application):
        return ApplicationOut(**summary)
    lines = services.summary(session, application)
    return ApplicationOut(
        **summary,
        content=application.content,
        coverage=[
            AreaCoverage.of(area, area=area.code, competencies=len(area.leaves))
            for area in services.coverage(session, application)
        ],
        missing=[MissingPart(field=line.part, message=line.message) for line in lines.missing],
        warnings=[MissingPart(field=line.part, message=line.message) for line in lines.warnings],
        documents=[DocumentOut.of(d) for d in services.documents(session, application.id)],
    )


def stored_document(document: EvidenceDocument) -> StoredDocument:
    return StoredDocument.of(document)


def queue_page(session: Session, actor: Actor, page: Page[Application]) -> QueuePage:
    clocks = workflow.clocks(session, page.rows)
    return QueuePage.of(
        page,
        counts=queue.counts_by_state(session),
        applications=[application_summary(session, actor, a, clocks[a.id]) for a in page.rows],
    )


def register_page(page: Page[Any], certifications: dict[int, queue.Certification]) -> RegisterPage:
    def prepares_for(application: Application) -> str | None:
        found = certifications.get(application.programme_id or 0)
        return found.code if found else None

    return RegisterPage.of(
        page,
        entries=[
            RegisterEntry.of(
                application,
                programme=application.title,
                prepares_for=prepares_for(application),
                provider=organisation.legal_name,
                country=organisation.country,
                website=organisation.website,
                delivery_mode=application.content.get("delivery_mode", ""),
                status=STATE_LABELS[application.state],
            )
            for application, organisation in page.rows
        ],
    )
