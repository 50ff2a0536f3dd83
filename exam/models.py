"""Sittings and registrations, accommodations, attempts with their drawn forms and responses."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base, UTCDateTime, allowed_values


class SittingMode(StrEnum):
    ONLINE = "online"
    TEST_CENTRE = "test_centre"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    CHECKED_IN = "checked_in"
    ADMITTED = "admitted"
    TURNED_AWAY = "turned_away"
    CANCELLED = "cancelled"
    STARTED = "started"


class AccommodationStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"


class AttemptStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class Outcome(StrEnum):
    """An attempt's result: a terminated attempt is void, never a fail."""

    PASS = "pass"  # noqa: S105  (a result, not a password)
    FAIL = "fail"
    VOID = "void"


class ScoringAction(StrEnum):
    DO_NOT_SCORE = "do_not_score"
    CORRECT_KEY = "correct_key"


class AppealStatus(StrEnum):
    SUBMITTED = "submitted"
    UPHELD = "upheld"
    DENIED = "denied"


class AppealRemedy(StrEnum):
    VOID = "void"
    RESCORE = "rescore"
    NONE = "none"


class ProctorAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"
    TERMINATE = "terminate"
    NOTE = "note"


OPEN_ATTEMPT = frozenset({AttemptStatus.IN_PROGRESS, AttemptStatus.PAUSED})
FINISHED_ATTEMPT = frozenset(
    {AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED, AttemptStatus.TERMINATED}
)
ACTIVE_REGISTRATION = frozenset(
    {RegistrationStatus.REGISTERED, RegistrationStatus.CHECKED_IN, RegistrationStatus.ADMITTED}
)
HOLDS_A_PLACE = ACTIVE_REGISTRATION | {RegistrationStatus.STARTED}


class Sitting(Base):
    """A scheduled exam session on one blueprint, with a start window and proctors."""

    __tablename__ = "sitting"
    __table_args__ = (allowed_values("mode", SittingMode),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blueprint_id: Mapped[int] = mapped_column(ForeignKey("blueprint.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(300), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Starts spread over this many minutes from the opening, one slot per admission (0: all
    # at the opening); the server enforces each candidate's start time.
    start_spread_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped on every edit: two staff editing at once get a 409, not a silent overwrite.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    proctor_links: Mapped[list[SittingProctor]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def proctor_ids(self) -> set[int]:
        return {link.user_id for link in self.proctor_links}

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


class SittingProctor(Base):
    __tablename__ = "sitting_proctor"

    sitting_id: Mapped[int] = mapped_column(
        ForeignKey("sitting.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id"), primary_key=True, index=True
    )


class Registration(Base):
    """A candidate's place in a sitting, from registration to admission by a proctor."""

    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    identity_check: Mapped[str] = mapped_column(Text, default="")
    turned_away_reason: Mapped[str] = mapped_column(String(40), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set at admission when the sitting spreads its starts: not before this moment.
    start_not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sitting: Mapped[Sitting] = relationship(lazy="joined")
    accommodation: Mapped[Accommodation | None] = relationship(
        back_populates="registration", uselist=False, lazy="selectin"
    )

    __table_args__ = (
        UniqueConstraint("sitting_id", "candidate_id"),
        allowed_values("status", RegistrationStatus),
    )


class Accommodation(Base):
    """Extra time requested by the candidate for one registration, decided by staff."""

    __tablename__ = "accommodation"
    __table_args__ = (allowed_values("status", AccommodationStatus),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    time_factor: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # requested, approved, denied
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    registration: Mapped[Registration] = relationship(back_populates="accommodation")


class Attempt(Base):
    """One candidate's exam: the form drawn, the clock, the outcome of delivery.

    ``deadline_at`` is kept up to date by every start, pause, resume and extension,
    so a save can check it in the same statement that writes the answer.
    """

    __tablename__ = "attempt"
    __table_args__ = (
        allowed_values("status", AttemptStatus),
        allowed_values("result", Outcome),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id"), index=True)
    blueprint_version_id: Mapped[int] = mapped_column(
        ForeignKey("blueprint_version.id"), index=True
    )
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_limit_seconds: Mapped[int] = mapped_column(Integer)
    time_factor: Mapped[float] = mapped_column(Float, default=1.0)
    extension_seconds: Mapped[int] = mapped_column(Integer, default=0)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_digest: Mapped[str] = mapped_column(String(64), default="")
    # Set by grading: "pass", "fail" or "void" (terminated); retakes and caps read it.
    result: Mapped[str | None] = mapped_column(String(10))
    # Bumped by every change of status or clock: the candidate's page polls it.
    state_version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[AttemptItem]] = relationship(
        order_by="AttemptItem.position", cascade="all, delete-orphan"
    )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_ATTEMPT

    @property
    def time_is_up(self) -> bool:
        """Running past its deadline but not yet expired (``timing.expire_overdue`` does that):
        a read shows it as over without writing."""
        return self.status == AttemptStatus.IN_PROGRESS and clock.now() >= self.deadline_at

    @property
    def over(self) -> bool:
        return self.finished or self.time_is_up

    @property
    def effective_status(self) -> AttemptStatus:
        return AttemptStatus.EXPIRED if self.time_is_up else AttemptStatus(self.status)

    def compute_deadline(self) -> datetime:
        return deadline_of(
            self.started_at,
            self.time_limit_seconds,
            self.time_factor,
            self.extension_seconds,
            self.paused_seconds,
        )


def deadline_of(
    started_at: datetime, limit_seconds: int, factor: float, extension: int, paused: int
) -> datetime:
    """When time is up: the limit stretched by any extra-time factor, plus extensions and
    the time spent paused."""
    return started_at + timedelta(seconds=round(limit_seconds * factor + extension) + paused)


class AttemptItem(Base):
    """One question of a drawn form: the exact item version and the option order shown."""

    __tablename__ = "attempt_item"

    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempt.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No index on item_id: reads of a form's items go by the attempt or the item version,
    # and each index here costs every start one page write per question.
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"), index=True)
    # Letters of the authored options in the order shown, e.g. ["C", "A", "D", "B"].
    # The browser sees opaque ids derived from these (exam.services.option_ids.option_id).
    option_order: Mapped[list[str]] = mapped_column(JSON)
    # A pretest item: shown like any other, answered and analysed, never counted.
    pretest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PreparedForm(Base):
    """A form drawn for an admitted registration before the candidate presses start.

    Drawing (the pool, enemies, exposure caps) is the costly part of a start; done at
    admission it is off the moment a whole room presses start together, and the start
    becomes a short insert. The items' exposure is counted when the form is drawn. A form
    that could not be drawn ahead keeps the reason (``problem``), which the proctor sees;
    that candidate is drawn for at start, as before.
    """

    __tablename__ = "prepared_form"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    blueprint_version_id: Mapped[int | None] = mapped_column(ForeignKey("blueprint_version.id"))
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    # [[item_id, item_version_id, ["C", "A", "D", "B"]], ...] in the candidate's order.
    items: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    problem: Mapped[str] = mapped_column(Text, default="")
    # Positions (1-based) of the pretest items among ``items``; None or [] for none.
    pretest_positions: Mapped[list[int] | None] = mapped_column(JSON)
    # The questions as the candidate sees them, without option ids (those belong to the
    # attempt): ``exam.services.shown_content.stored``; None for a form kept without them.
    shown: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The same questions as the start's answer sends them (JSON text, option ids and media
    # addresses of the attempt to be, whose id is the registration's), and which secret key
    # made the ids (``option_ids.key_check``): another key means ``shown`` is rendered anew.
    rendered: Mapped[str | None] = mapped_column(Text)
    rendered_key: Mapped[str] = mapped_column(String(16), default="", server_default="")

    @property
    def ready(self) -> bool:
        return not self.problem


class Response(Base):
    """The candidate's current answer to one question (one row, overwritten by each save).

    ``selected`` holds the authored option letters, never the browser's opaque ids.
    """

    __tablename__ = "response"

    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempt.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    selected: Mapped[list[str]] = mapped_column(JSON)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the answer was chosen, in ms since the epoch on the server's clock (the page
    # measures its offset): a save queued offline and replayed late never overwrites one
    # chosen after it. ``None`` on rows saved before the order was kept.
    answer_order: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AttemptEvent(Base):
    """What happened during an attempt: proctor actions and what the delivery page reports."""

    __tablename__ = "attempt_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ItemExposure(Base):
    """How many forms have used an item (any version), for the exposure cap."""

    __tablename__ = "item_exposure"

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    forms: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_attempt_candidate_started", Attempt.candidate_id, Attempt.started_at)


class AttemptResult(Base):
    """How an attempt was scored: everything needed to explain the outcome."""

    __tablename__ = "attempt_result"
    __table_args__ = (allowed_values("result", Outcome),)

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), primary_key=True)
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(10))  # pass, fail, void
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    percent: Mapped[float] = mapped_column(Float)
    pass_percent: Mapped[float] = mapped_column(Float)
    # Per area: code, title, score, max, percent, min_percent, met, and its sub-areas.
    areas: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Per position: the score given (kept so a later rescoring can show what changed).
    item_scores: Mapped[dict[str, float]] = mapped_column(JSON)
    released: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why this score differs from the first one (items not scored, keys corrected, appeals).
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # On a blueprint with a reporting scale: the Rasch measure (logits), the score on the
    # scale and the scale's pass point; the overall pass then goes by the measure.
    measure: Mapped[float | None] = mapped_column(Float)
    scaled_score: Mapped[int | None] = mapped_column(Integer)
    scale_cut: Mapped[int | None] = mapped_column(Integer)


class ScoringDecision(Base):
    """Staff's decision about how one item version is scored from now on, for every attempt."""

    __tablename__ = "scoring_decision"
    __table_args__ = (allowed_values("action", ScoringAction),)

    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"), primary_key=True)
    action: Mapped[str] = mapped_column(String(20))  # do_not_score, correct_key
    keys: Mapped[list[str] | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Appeal(Base):
    """A candidate's appeal against a result, decided by staff."""

    __tablename__ = "appeal"
    __table_args__ = (
        allowed_values("status", AppealStatus),
        allowed_values("remedy", AppealRemedy, blank=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)  # submitted, upheld, denied
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    remedy: Mapped[str] = mapped_column(String(20), default="")  # void, rescore, none
