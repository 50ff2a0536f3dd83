"""Timed delivery: starting an attempt, what the candidate sees, saving, submitting.

The browser never sees a key, an item id or a review status. Options carry opaque ids
derived per attempt from the secret key (``exam.services.option_ids``), so a save is checked
without reading the database, and the write itself checks owner, state and deadline in
one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.db import Database
from core.errors import FieldError, Problem
from exam.models import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    AttemptStatus,
    Registration,
    RegistrationStatus,
    Response,
)
from exam.services import drawing
from exam.services.accommodations import approved_time_factor
from exam.services.assembly import LETTERS
from exam.services.duties import refuse_bank_reader
from exam.services.media_access import ShownMedia
from exam.services.option_ids import option_id
from exam.services.problems import attempt_paused, no_registration
from exam.services.shown_content import form_content
from exam.services.shown_stimuli import ShownStimulus, with_runs
from exam.services.timing import expire_overdue, finish_attempt, responses

CLIENT_EVENTS = (
    "tab_hidden",
    "tab_visible",
    "window_blur",
    "window_focus",
    "fullscreen_exit",
    "copy",
    "paste",
)


def _not_found() -> Problem:
    return Problem(404, "No such attempt", "There is no such attempt.")


def attempt_for_registration(session: Session, registration_id: int) -> Attempt | None:
    return session.scalars(
        select(Attempt).where(Attempt.registration_id == registration_id)
    ).one_or_none()


def attempts_by_registration(session: Session, candidate_id: int) -> dict[int, Attempt]:
    query = select(Attempt).where(Attempt.candidate_id == candidate_id)
    return {attempt.registration_id: attempt for attempt in session.scalars(query)}


def _check_startable(registration: Registration, candidate_id: int) -> None:
    if registration.candidate_id != candidate_id:
        raise no_registration()
    sitting, now = registration.sitting, clock.now()
    if registration.status != RegistrationStatus.ADMITTED:
        raise Problem(409, "Not admitted yet", "Wait until the proctor admits you, then start.")
    if sitting.cancelled or not (sitting.opens_at <= now < sitting.closes_at):
        raise Problem(
            409,
            "Outside the window",
            "This sitting can be started only between the ends of its window: "
            f"{clock.format_window(sitting.opens_at, sitting.closes_at)}.",
        )
    slot = registration.start_not_before
    if slot is not None and now < slot:
        raise Problem(
            409,
            "Not your start time yet",
            "Starts in this sitting are spread out: "
            f"you can start from {clock.format_moment(slot)}.",
            slug="start-slot",
            extra={"start_not_before": slot.isoformat()},
        )


def start_attempt(db: Database, candidate: Actor, registration_id: int) -> int:
    """Start the clock on the form drawn at admission (or draw one now); starting again
    returns the same attempt's id.

    Everything is read on a read-only session; only the short insert takes the write
    lock, so a room of candidates pressing start together is not served one at a time.
    """
    candidate_id = candidate.id
    with db.read_sessions() as session:
        registration = session.get(Registration, registration_id)
        if registration is None:
            raise no_registration()
        existing = attempt_for_registration(session, registration_id)
        if existing is not None and registration.candidate_id == candidate_id:
            return existing.id
        refuse_bank_reader(candidate)  # a role given since booking
        _check_startable(registration, candidate_id)
        drawn, why_not_kept = drawing.kept_draw(session, registration)
        if drawn is None:
            drawn = drawing.draw_form(session, registration)
    with db.write_sessions() as session:
        registration = session.get(Registration, registration_id)
        assert registration is not None
        existing = attempt_for_registration(session, registration_id)
        if existing is not None:
            return existing.id
        _check_startable(registration, candidate_id)
        try:
            return _store_attempt(session, registration, drawn, why_not_kept)
        except IntegrityError:  # PostgreSQL: the same start won in another transaction
            session.rollback()
            existing = attempt_for_registration(session, registration_id)
            if existing is None:
                raise
            return existing.id


def _store_attempt(
    session: Session, registration: Registration, drawn: drawing.Draw, why_not_kept: str
) -> int:
    now = clock.now()
    attempt = Attempt(
        registration_id=registration.id,
        candidate_id=registration.candidate_id,
        sitting_id=registration.sitting_id,
        blueprint_version_id=drawn.version_id,
        seed=drawn.seed,
        status=AttemptStatus.IN_PROGRESS,
        started_at=now,
        time_limit_seconds=drawn.time_limit_seconds,
        time_factor=approved_time_factor(registration),
        extension_seconds=0,
        paused_seconds=0,
        state_version=1,
    )
    attempt.deadline_at = attempt.compute_deadline()
    registration.status = RegistrationStatus.STARTED
    session.add(attempt)
    session.flush()
    session.execute(insert(AttemptItem), _attempt_items(attempt.id, drawn))
    drawing.let_go(session, registration.id, why_not_kept, used=drawn.counted)
    if not drawn.counted:
        drawing.count_exposure(session, drawn.item_ids, now, +1)
        session.add(
            AttemptEvent(
                attempt_id=attempt.id,
                kind="drawn_at_start",
                detail={"why": why_not_kept},
                occurred_at=now,
            )
        )
    audit.record(
        session,
        actor_id=registration.candidate_id,
        action="attempt.started",
        object_type="attempt",
        object_id=attempt.id,
        after={
            "blueprint_version": drawn.version_number,
            "items": len(drawn.slots),
            "drawn": "at admission" if drawn.counted else "at start",
        },
    )
    session.commit()
    return attempt.id


def _attempt_items(attempt_id: int, drawn: drawing.Draw) -> list[dict[str, Any]]:
    return [
        {
            "attempt_id": attempt_id,
            "position": position,
            "item_id": item_id,
            "item_version_id": version_id,
            "option_order": list(order),
            "pretest": position in drawn.pretest_positions,
        }
        for position, (item_id, version_id, order) in enumerate(drawn.slots, start=1)
    ]


# ---- what the candidate sees ----------------------------------------------


def require_own_attempt(session: Session, candidate_id: int, attempt_id: int) -> Attempt:
    """The candidate's own attempt as stored; anyone else's is a 404, not a 403."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.candidate_id != candidate_id:
        raise _not_found()
    return attempt


def withheld(attempt: Attempt) -> Problem | None:
    """Why the attempt's questions are not shown now, or ``None`` when they may be.

    Questions are shown only while the candidate's clock runs (and, read-only, once it is
    over): never while the proctor has paused the attempt, nor in any state before it runs.
    """
    if attempt.status == AttemptStatus.IN_PROGRESS or attempt.finished:
        return None
    if attempt.status == AttemptStatus.PAUSED:
        return attempt_paused(
            "The proctor has paused your exam and your time is stopped; the questions "
            "are shown again when the proctor resumes it."
        )
    return Problem(
        409,
        "Not running",
        f"This attempt is {attempt.status}; its questions are shown only while it runs.",
        slug="attempt-not-running",
        extra={"attempt_status": str(attempt.status)},
    )


@dataclass(frozen=True)
class ShownOption:
    id: str
    text: str


@dataclass(frozen=True)
class ShownQuestion:
    position: int
    type: str
    stem: str
    choose: int | None
    options: list[ShownOption]
    selected: list[str]
    flagged: bool
    stimulus: ShownStimulus | None = None
    media: tuple[ShownMedia, ...] = ()


def questions(session: Session, attempt: Attempt, secret_key: str) -> list[ShownQuestion]:
    """The form in the candidate's order, with opaque option ids and saved answers;
    a 409 naming the state while the attempt is paused (see :func:`withheld`)."""
    problem = withheld(attempt)
    if problem is not None:
        raise problem
    saved = {r.position: r for r in responses(session, attempt.id)}
    shown = []
    for slot in form_content(session, attempt.id):
        response = saved.get(slot.position)
        ids = {
            letter: option_id(secret_key, attempt.id, slot.position, letter)
            for letter in slot.option_order
        }
        shown.append(
            ShownQuestion(
                position=slot.position,
                type=slot.type,
                stem=slot.stem,
                choose=slot.choose,
                options=[
                    ShownOption(ids[letter], slot.options[LETTERS.index(letter)])
                    for letter in slot.option_order
                ],
                selected=[
                    ids[letter]
                    for letter in (response.selected if response else [])
                    if letter in ids
                ],
                flagged=bool(response and response.flagged),
                stimulus=slot.stimulus,
                media=slot.media,
            )
        )
    runs = with_runs([(question.position, question.stimulus) for question in shown])
    return [replace(question, stimulus=run) for question, run in zip(shown, runs, strict=True)]


# ---- submitting and the page's events ----------------------------------------------


def submit(session: Session, candidate: Actor, attempt_id: int) -> Attempt:
    """Hand in the attempt; submitting again, or from a second tab, changes nothing; one
    whose time is up is expired instead."""
    attempt = expire_overdue(session, require_own_attempt(session, candidate.id, attempt_id))
    if attempt.status == AttemptStatus.PAUSED:
        raise Problem(409, "Paused", "The proctor has paused your exam; submit when it resumes.")
    if not attempt.finished and finish_attempt(
        session, attempt, AttemptStatus.SUBMITTED, clock.now()
    ):
        audit.record(
            session,
            actor_id=candidate.id,
            action="attempt.submitted",
            object_type="attempt",
            object_id=attempt.id,
            after={"digest": attempt.receipt_digest},
        )
    session.commit()
    return attempt


def record_client_event(
    session: Session, candidate: Actor, attempt_id: int, kind: str, detail: str
) -> None:
    """Log what the page saw (a hidden tab, a paste); nothing once the attempt is over."""
    attempt = require_own_attempt(session, candidate.id, attempt_id)
    if kind not in CLIENT_EVENTS:
        raise Problem(
            422,
            "Unknown event",
            f"Event kinds: {', '.join(CLIENT_EVENTS)}.",
            errors=[FieldError("kind", "Unknown event.")],
        )
    if attempt.over:
        return
    session.add(
        AttemptEvent(
            attempt_id=attempt.id,
            kind=kind,
            detail={"detail": detail[:500]} if detail else {},
            occurred_at=clock.now(),
        )
    )
    session.commit()


def answered_count(session: Session, attempt_id: int) -> int:
    return sum(
        1
        for selected in session.scalars(
            select(Response.selected).where(Response.attempt_id == attempt_id)
        )
        if selected
    )
