"""Timed delivery: what the candidate sees, submitting, the page's events (starting is
``exam.services.starting``, saving ``exam.services.answers``).

The browser never sees a key, an item id or a review status. Options carry opaque ids
derived per attempt from the secret key (``exam.services.option_ids``), so a save is checked
without reading the database, and the write itself checks owner, state and deadline in
one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from exam.models import (
    Attempt,
    AttemptEvent,
    AttemptStatus,
    Response,
)
from exam.services.assembly import LETTERS
from exam.services.media_access import ShownMedia
from exam.services.option_ids import option_ids
from exam.services.problems import attempt_paused
from exam.services.shown_content import SlotContent, form_content
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
    return shown_questions(form_content(session, attempt.id), saved, secret_key, attempt.id)


def shown_questions(
    contents: list[SlotContent], saved: dict[int, Response], secret_key: str, attempt_id: int
) -> list[ShownQuestion]:
    """The questions as the candidate sees them: options in the drawn order under opaque
    ids, saved answers as those ids, each passage told the run of questions it serves."""
    shown = []
    for slot in contents:
        response = saved.get(slot.position)
        ids = option_ids(secret_key, attempt_id, slot.position)
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
    return [
        question if run is question.stimulus else replace(question, stimulus=run)
        for question, run in zip(shown, runs, strict=True)
    ]


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
