"""The exam's JSON response bodies, built from stored objects: each a model that the
handler sends and the OpenAPI document shows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from typing import Any

from flask import Flask, current_app, has_request_context, url_for
from pydantic import Field, TypeAdapter
from sqlalchemy.orm import Session

from core import clock
from core.api import Moment, ResponseModel
from exam.models import (
    AccommodationStatus,
    Attempt,
    AttemptResult,
    AttemptStatus,
    Outcome,
    Registration,
    RegistrationStatus,
    Sitting,
    SittingMode,
)
from exam.services import delivery, results, short_start, sittings, statistics, timing
from exam.services.media_access import ShownMedia
from exam.services.rescoring import Rescored
from exam.services.shown_content import SlotContent
from item_bank.models import ItemType


class SittingOut(ResponseModel):
    id: int
    title: str
    opens_at: Moment
    closes_at: Moment
    capacity: int
    places_taken: int
    mode: SittingMode
    location: str
    cancelled: bool
    start_spread_minutes: int
    revision: int = Field(description="Send it back when editing (409 if it has moved on).")


class SittingList(ResponseModel):
    sittings: list[SittingOut]


class AccommodationOut(ResponseModel):
    time_factor: float
    status: AccommodationStatus


class RegistrationOut(ResponseModel):
    id: int
    sitting_id: int
    candidate_id: int
    status: RegistrationStatus
    accommodation: AccommodationOut | None
    start_not_before: Moment | None = Field(
        default=None, description="When the sitting spreads its starts: the earliest start."
    )


class Receipt(ResponseModel):
    finished_at: Moment
    digest: str


class AttemptState(ResponseModel):
    """The part of an attempt the page polls: cheap, and without any content."""

    id: int
    status: AttemptStatus
    deadline: Moment
    seconds_left: int
    server_now_ms: int = Field(
        description="The server's clock, ms since the epoch: the page measures its offset."
    )
    state_version: int
    receipt: Receipt | None = Field(description="Once the attempt is finished.")


class OptionOut(ResponseModel):
    id: str = Field(description="Opaque: send it back in `selected`.")
    text: str


class MediaShownOut(ResponseModel):
    """An image or sound beside a question, fetched from ``url`` while the attempt is open."""

    url: str
    kind: str = Field(description="image or audio")
    content_type: str
    alt: str
    transcript: str
    width: int | None
    height: int | None


class StimulusShownOut(ResponseModel):
    """The shared passage beside a question: its text, its exhibits, and the run of
    questions on it."""

    title: str
    body: str
    first: int
    last: int
    media: list[MediaShownOut] = Field(
        default_factory=list, description="Shown after the passage, as a question's media."
    )


class QuestionOut(ResponseModel):
    position: int
    type: ItemType
    stem: str
    choose: int | None
    options: list[OptionOut]
    selected: list[str]
    flagged: bool
    stimulus: StimulusShownOut | None = None
    media: list[MediaShownOut] = []


class AttemptOut(AttemptState):
    """The attempt with its questions (opaque option ids) and saved answers."""

    questions: list[QuestionOut]
    answered: int


class SavedAnswer(ResponseModel):
    position: int
    saved_at: Moment


class SubareaResult(ResponseModel):
    code: str
    title: str
    score: float
    max: int
    percent: float


class AreaResult(ResponseModel):
    code: str
    title: str
    percent: float
    min_percent: float
    met: bool
    subareas: list[SubareaResult]


class ResultCertificate(ResponseModel):
    code: str
    url: str = Field(description="The certificate's page: share link, PDF, signed credential")
    status: str = Field(description="valid, expired, suspended or revoked")


class ResultOut(ResponseModel):
    """A scored attempt, and the certificate it produced."""

    attempt_id: int
    result: Outcome
    percent: float
    pass_percent: float
    score: float
    max_score: float
    graded_at: Moment
    areas: list[AreaResult]
    scaled_score: int | None = Field(
        default=None, description="The score on the blueprint's reporting scale, if it has one"
    )
    scale_cut: int | None = Field(default=None, description="The pass point on that scale")
    measure: float | None = Field(
        default=None, description="The Rasch measure (logits) the scaled score comes from"
    )
    certificate: ResultCertificate | None = Field(
        description="The certificate the attempt produced, whatever its status; null if none"
    )
    credential: str = Field(description="The credential a pass on this exam earns")
    level: str = Field(description="The proficiency level that credential certifies")


class HistogramBand(ResponseModel):
    from_percent: int
    count: int


class ItemStatisticsOut(ResponseModel):
    ref: str
    version: int
    competency: str
    n: int
    p_value: float
    point_biserial: float | None
    exposure: float
    keys: list[str]
    distractors: dict[str, dict[str, int]] = Field(
        description='Per option letter: {"upper": n, "lower": n, "all": n}.'
    )
    flags: list[str]


class StatisticsOut(ResponseModel):
    attempts: int
    pass_rate: float
    mean: float
    sd: float
    kr20: float | None
    sem: float | None
    histogram: list[HistogramBand]
    items: list[ItemStatisticsOut]


class ChangedOutcomeOut(ResponseModel):
    attempt_id: int
    candidate_id: int
    before: Outcome | None
    after: Outcome


class CertificateEffectOut(ResponseModel):
    attempt_id: int
    effect: str = Field(
        description="issued, reinstated, revoked, superseded (an earlier certificate the"
        " new one replaces) or untouched (already revoked, say; the note says why)."
    )
    certificate: str | None = Field(
        description="The certificate's code; null for the new certificate a dry run would"
        " issue (its code is drawn when it is)."
    )
    note: str


class ChangedOutcomes(ResponseModel):
    dry_run: bool = Field(description="True: nothing was kept; the figures say what would be.")
    version: int = Field(description="The item version decided on.")
    attempts_rescored: int = Field(description="Finished attempts that used it, rescored.")
    outcomes_changed: int
    changed: list[ChangedOutcomeOut]
    certificates: list[CertificateEffectOut]


OPENAPI_MODELS = (
    SittingOut,
    SittingList,
    RegistrationOut,
    AttemptState,
    AttemptOut,
    SavedAnswer,
    ResultOut,
    StatisticsOut,
    ChangedOutcomes,
)


def sitting_out(session: Session, sitting: Sitting) -> SittingOut:
    return SittingOut.of(sitting, places_taken=sittings.count_places_taken(session, sitting.id))


def registration_out(registration: Registration) -> RegistrationOut:
    return RegistrationOut.of(registration)


def attempt_state(attempt: Attempt) -> AttemptState:
    finished_at = attempt.finished_at if attempt.finished else None
    return AttemptState(
        id=attempt.id,
        status=attempt.effective_status,
        deadline=attempt.deadline_at,
        seconds_left=timing.seconds_left(attempt),
        server_now_ms=int(clock.now().timestamp() * 1000),
        state_version=attempt.state_version,
        receipt=Receipt(finished_at=finished_at, digest=attempt.receipt_digest)
        if finished_at
        else None,
    )


def attempt_out(session: Session, attempt: Attempt, secret_key: str) -> AttemptOut:
    return _attempt_with(attempt, delivery.questions(session, attempt, secret_key))


def rendered_questions(contents: list[SlotContent], secret_key: str, attempt_id: int) -> str:
    """The questions of a form drawn ahead as the start's answer will send them, for the
    attempt to be (``attempt_id``), as JSON text: validated and serialised once, at
    admission, not while a whole room presses start."""
    # An admission outside a request (the command line) builds the same relative addresses.
    urls = nullcontext() if has_request_context() else current_app.test_request_context()
    with urls:
        shown = delivery.shown_questions(contents, {}, secret_key, attempt_id)
        questions = _QUESTIONS.validate_python([_question_out(attempt_id, q) for q in shown])
    return _QUESTIONS.dump_json(questions, exclude_unset=True).decode()


_QUESTIONS = TypeAdapter(list[QuestionOut])


def started_body(attempt: Attempt, rendered: str) -> str:
    """The start's answer around questions rendered at admission: the same body as
    :func:`attempt_out` (nothing is saved yet), with the clock of the attempt just made."""
    state = attempt_state(attempt).model_dump_json(exclude_unset=True)
    return f'{state[:-1]},"questions":{rendered},"answered":0}}'


def started_out(started: short_start.Started, secret_key: str) -> AttemptOut:
    """The answer to a start from a form drawn ahead: the same body as :func:`attempt_out`,
    built from the questions kept with the form (nothing is saved yet)."""
    attempt = started.attempt
    return _attempt_with(
        attempt, delivery.shown_questions(started.contents, {}, secret_key, attempt.id)
    )


def _attempt_with(attempt: Attempt, shown: list[delivery.ShownQuestion]) -> AttemptOut:
    """The body validated in one call from plain values: the start answers a whole room
    at once, and sixty questions built model by model cost more than its reads and writes."""
    return AttemptOut.model_validate(
        {
            **dict(attempt_state(attempt)),
            "questions": [_question_out(attempt.id, q) for q in shown],
            "answered": sum(1 for q in shown if q.selected),
        }
    )


def _question_out(attempt_id: int, question: delivery.ShownQuestion) -> dict[str, Any]:
    stimulus = question.stimulus
    return {
        "position": question.position,
        "type": question.type,
        "stem": question.stem,
        "choose": question.choose,
        "options": [{"id": option.id, "text": option.text} for option in question.options],
        "selected": question.selected,
        "flagged": question.flagged,
        "stimulus": {
            "title": stimulus.title,
            "body": stimulus.body,
            "first": stimulus.first,
            "last": stimulus.last,
            "media": _media_out(attempt_id, stimulus.media),
        }
        if stimulus
        else None,
        "media": _media_out(attempt_id, question.media),
    }


def _media_out(attempt_id: int, media: Iterable[ShownMedia]) -> list[dict[str, Any]]:
    return [
        {
            "url": url_for("exam.attempt_media_file", attempt_id=attempt_id, sha256=m.sha256),
            "kind": m.kind,
            "content_type": m.content_type,
            "alt": m.alt,
            "transcript": m.transcript,
            "width": m.width,
            "height": m.height,
        }
        for m in media
    ]


# The exam room never imports certificates: the room that issues them says which one an
# attempt produced by registering a finder when the app is wired.
CertificateFinder = Callable[[Session, int], ResultCertificate | None]
_CERTIFICATE_FINDER = "csm_exam_certificate_finder"


def register_certificate_finder(app: Flask, finder: CertificateFinder) -> None:
    app.extensions[_CERTIFICATE_FINDER] = finder


def certificate_of(session: Session, attempt_id: int) -> ResultCertificate | None:
    """The certificate the attempt produced, as the room that issues them says."""
    finder: CertificateFinder | None = current_app.extensions.get(_CERTIFICATE_FINDER)
    return finder(session, attempt_id) if finder is not None else None


def result_out(session: Session, outcome: AttemptResult) -> ResultOut:
    attempt = session.get(Attempt, outcome.attempt_id)
    assert attempt is not None
    earns = results.credential_of_attempt(session, attempt)
    return ResultOut.of(
        outcome,
        areas=[AreaResult.of(area) for area in outcome.areas],
        certificate=certificate_of(session, outcome.attempt_id),
        credential=earns.credential,
        level=earns.level,
    )


def statistics_out(stats: statistics.ExamStats) -> StatisticsOut:
    return StatisticsOut.of(
        stats,
        histogram=[HistogramBand(from_percent=low, count=count) for low, count in stats.histogram],
        items=[ItemStatisticsOut.of(item, competency=item.code) for item in stats.items],
    )


def changed_outcomes(rescored: Rescored, dry_run: bool) -> ChangedOutcomes:
    return ChangedOutcomes(
        dry_run=dry_run,
        version=rescored.version,
        attempts_rescored=rescored.attempts,
        outcomes_changed=len(rescored.changed),
        changed=[ChangedOutcomeOut.of(c) for c in rescored.changed],
        certificates=[
            CertificateEffectOut(
                attempt_id=c.about,
                effect=c.kind,
                certificate=None if c.provisional and dry_run else c.subject,
                note=c.note,
            )
            for c in rescored.certificates
        ],
    )
