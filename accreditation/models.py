"""Training providers, their programme applications, and the accreditation decisions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, allowed_values

# The roles of core.auth that act in this room.
PROVIDER_ROLE = "provider"
LEAD_ROLE = "accreditation_lead"
ASSESSOR_ROLE = "accreditation_reviewer"
STAFF_ROLES = (LEAD_ROLE, ASSESSOR_ROLE)


class State(StrEnum):
    """Where an application stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    SCREENING = "screening"
    RETURNED_INCOMPLETE = "returned_incomplete"
    UNDER_REVIEW = "under_review"
    CLARIFICATION_REQUESTED = "clarification_requested"
    RECOMMENDED = "recommended"
    ACCREDITED = "accredited"
    ACCREDITED_WITH_CONDITIONS = "accredited_with_conditions"
    REFUSED = "refused"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    RENEWAL_DUE = "renewal_due"
    EXPIRED = "expired"
    APPEALED = "appealed"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[str, str] = {
    State.DRAFT: "Draft",
    State.SUBMITTED: "Submitted",
    State.SCREENING: "Screening",
    State.RETURNED_INCOMPLETE: "Returned as incomplete",
    State.UNDER_REVIEW: "Under review",
    State.CLARIFICATION_REQUESTED: "Clarification requested",
    State.RECOMMENDED: "Recommended",
    State.ACCREDITED: "Accredited",
    State.ACCREDITED_WITH_CONDITIONS: "Accredited with conditions",
    State.REFUSED: "Refused",
    State.SUSPENDED: "Suspended",
    State.WITHDRAWN: "Withdrawn",
    State.RENEWAL_DUE: "Renewal due",
    State.EXPIRED: "Expired",
    State.APPEALED: "Under appeal",
}
# Submitted and not yet decided: the staff queue and the service-level clock.
OPEN_STATES = (
    State.SUBMITTED,
    State.SCREENING,
    State.RETURNED_INCOMPLETE,
    State.UNDER_REVIEW,
    State.CLARIFICATION_REQUESTED,
    State.RECOMMENDED,
)
# Accredited now; an accreditation in one of these (or suspended) can still run out.
IN_FORCE_STATES = (State.ACCREDITED, State.ACCREDITED_WITH_CONDITIONS, State.RENEWAL_DUE)
ENDING_STATES = (*IN_FORCE_STATES, State.SUSPENDED)
RENEWABLE_STATES = (*IN_FORCE_STATES, State.EXPIRED)
# Shown on the public register: accredited, and no longer accredited shown as such.
REGISTER_STATES = (*ENDING_STATES, State.EXPIRED, State.WITHDRAWN)
# The provider edits the content; evidence may also be added when the assessor asks.
EDITABLE_STATES = (State.DRAFT, State.RETURNED_INCOMPLETE)
DOCUMENT_STATES = (*EDITABLE_STATES, State.CLARIFICATION_REQUESTED)


class Action(StrEnum):
    """The workflow's steps (``accreditation.workflow.steps.STEPS`` says who takes each)."""

    SUBMIT = "submit"
    SCREEN = "screen"
    RETURN_INCOMPLETE = "return_incomplete"
    ASSIGN = "assign"
    DECLARE = "declare"
    REQUEST_CLARIFICATION = "request_clarification"
    ANSWER = "answer"
    RECOMMEND = "recommend"
    ACCREDIT = "accredit"
    ACCREDIT_WITH_CONDITIONS = "accredit_with_conditions"
    DEFER = "defer"
    REFUSE = "refuse"
    CONDITIONS_MET = "conditions_met"
    SUSPEND = "suspend"
    LIFT_SUSPENSION = "lift_suspension"
    WITHDRAW_ACCREDITATION = "withdraw_accreditation"
    WITHDRAW = "withdraw"
    APPEAL = "appeal"
    UPHOLD_APPEAL = "uphold_appeal"
    DENY_APPEAL = "deny_appeal"
    RENEWAL_DUE = "renewal_due"
    EXPIRE = "expire"
    CONDITIONS_MISSED = "conditions_missed"

    @property
    def audit_action(self) -> str:
        return f"application.{self}"


class Party(StrEnum):
    """The part someone plays on an application, which decides the steps open to them."""

    PROVIDER = "provider"
    LEAD = "lead"
    UNCLEARED_ASSESSOR = "uncleared_assessor"
    CLEARED_ASSESSOR = "cleared_assessor"
    DECIDING_LEAD = "deciding_lead"
    APPEAL_LEAD = "appeal_lead"
    SYSTEM = "system"


class Recommendation(StrEnum):
    """The assessor's recommendation to the deciding lead."""

    ACCREDIT = "accredit"
    ACCREDIT_WITH_CONDITIONS = "accredit_with_conditions"
    REFUSE = "refuse"


class DeliveryMode(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    BLENDED = "blended"


DELIVERY_MODES = {
    DeliveryMode.IN_PERSON: "In person",
    DeliveryMode.ONLINE: "Online",
    DeliveryMode.BLENDED: "Blended",
}
CRITERIA = {
    "coverage": "Curriculum coverage of the standard",
    "trainers": "Trainer qualification",
    "learner_assessment": "Assessment of learners",
    "materials": "Materials",
    "quality_assurance": "Quality assurance",
}


class Judgement(StrEnum):
    """The assessor's judgement of one criterion."""

    MEETS = "meets"
    PARTLY = "partly"
    DOES_NOT_MEET = "does_not_meet"


JUDGEMENTS = {
    Judgement.MEETS: "Meets",
    Judgement.PARTLY: "Partly meets",
    Judgement.DOES_NOT_MEET: "Does not meet",
}


class Organisation(Base):
    """A training provider; its users hold the ``provider`` role and see only its files."""

    __tablename__ = "provider_organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    website: Mapped[str] = mapped_column(String(300))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProviderMember(Base):
    """A provider user's organisation (one each). A colleague's membership starts as an
    invitation and counts only once they accept it."""

    __tablename__ = "provider_member"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("provider_organisation.id"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Application(Base):
    """One programme's application, from draft to decision and after.

    ``content`` holds what the provider writes (programme, trainers, curriculum mapping)
    while it is theirs to edit; each submission freezes it as an ``ApplicationVersion``.
    ``version`` is bumped by every change, so two people acting at once cannot
    overwrite each other silently.
    """

    __tablename__ = "accreditation_application"
    __table_args__ = (
        Index("ix_accreditation_application_queue", "state", "submitted_at"),
        Index("ix_accreditation_application_assessor", "assessor_id", "state"),
        allowed_values("state", State),
        allowed_values("recommendation", Recommendation, blank=True),
        allowed_values("appealed_from", State, blank=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("provider_organisation.id"), index=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"))
    # The certification programme the training prepares for; its framework is the one mapped.
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("accreditation_application.id"))
    state: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The service-level clock: runs from submission, paused while the file is with
    # the provider, stopped at the first review.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    first_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assessor_cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    judgements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[str] = mapped_column(String(40), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_letter: Mapped[str] = mapped_column(Text, default="")
    accreditation_number: Mapped[str | None] = mapped_column(String(30), unique=True)
    accredited_from: Mapped[date | None] = mapped_column(Date)
    accredited_until: Mapped[date | None] = mapped_column(Date)
    renewal_reminded_90_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewal_reminded_30_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The state an appeal returns to if it is denied, and who took part in the case.
    appealed_from: Mapped[str] = mapped_column(String(40), default="")


class ApplicationVersion(Base):
    """What was submitted, frozen: staff always judge a fixed text."""

    __tablename__ = "accreditation_application_version"
    __table_args__ = (UniqueConstraint("application_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("accreditation_application.id"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class ConflictDeclaration(Base):
    __tablename__ = "accreditation_conflict_declaration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id"), index=True
    )
    assessor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    has_conflict: Mapped[bool] = mapped_column(Boolean)
    statement: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Condition(Base):
    """A condition of an accreditation, to be met by its due date."""

    __tablename__ = "accreditation_condition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a later decision (a refusal, an upheld appeal) replaces the one it belonged to.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    """The thread between provider and staff; a clarification request carries a due date."""

    __tablename__ = "accreditation_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    from_provider: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceDocument(Base):
    """A PDF kept outside ``static/``, served only to the provider's users and staff."""

    __tablename__ = "accreditation_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
