"""What a viewer may see of an attempt's outcome, and whether they may appeal it: one
answer for the result page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.auth import Actor
from core.errors import Problem
from exam.models import (
    Appeal,
    AppealRemedy,
    Attempt,
    AttemptEvent,
    AttemptResult,
    Outcome,
    ProctorAction,
)
from exam.services.delivery import require_own_attempt
from exam.services.grading import get_result, study_list
from item_bank.models import BlueprintVersion
from item_bank.programmes import CredentialTerms, terms_of

APPEAL_WINDOW = timedelta(days=30)


def get_appeal(session: Session, attempt_id: int) -> Appeal | None:
    return session.scalars(select(Appeal).where(Appeal.attempt_id == attempt_id)).first()


def why_no_appeal(result: AttemptResult | None, appeal: Appeal | None) -> Problem | None:
    """Why this result cannot be appealed now (None: it can)."""
    if result is None or not result.released:
        return Problem(409, "No result yet", "You can appeal once your result is out.")
    if clock.now() > result.graded_at + APPEAL_WINDOW:
        return Problem(409, "Too late", "Appeals are accepted within 30 days of the result.")
    if appeal is not None:
        return Problem(409, "Already appealed", "This result has an appeal already.")
    return None


@dataclass(frozen=True)
class ResultView:
    attempt: Attempt
    outcome: AttemptResult | None  # None: nothing this viewer may see yet
    study: list[dict[str, Any]]
    appeal: Appeal | None
    can_appeal: bool
    void_reason: str = ""  # why a void attempt is void, in the words of who decided it
    earns: CredentialTerms | None = None  # the credential and level the exam certifies


def _void_reason(session: Session, outcome: AttemptResult | None, appeal: Appeal | None) -> str:
    if outcome is None or outcome.result != Outcome.VOID:
        return ""
    if appeal is not None and appeal.remedy == AppealRemedy.VOID:
        return f"Voided on appeal: {appeal.decision_reason}"
    ended = session.scalars(
        select(AttemptEvent)
        .where(
            AttemptEvent.attempt_id == outcome.attempt_id,
            AttemptEvent.kind == ProctorAction.TERMINATE,
        )
        .order_by(AttemptEvent.id.desc())
    ).first()
    reason = str(ended.detail.get("reason", "")) if ended is not None else ""
    return f"The proctor ended the exam: {reason}" if reason else "The proctor ended the exam."


def require_attempt_for_viewer(session: Session, viewer: Actor, attempt_id: int) -> Attempt:
    """The viewer's own attempt; an exam administrator may look at anyone's."""
    if not viewer.has_role("exam_admin"):
        return require_own_attempt(session, viewer.id, attempt_id)
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise Problem(404, "No such attempt", "")
    return attempt


def result_for(session: Session, viewer: Actor, attempt: Attempt) -> ResultView:
    """A candidate sees their outcome once released; an exam administrator sees it at once.
    Only the candidate may appeal, within the window, once."""
    outcome = get_result(session, attempt.id)
    visible = outcome is not None and (outcome.released or viewer.has_role("exam_admin"))
    appeal = get_appeal(session, attempt.id)
    own = viewer.id == attempt.candidate_id
    return ResultView(
        attempt=attempt,
        outcome=outcome if visible else None,
        study=study_list(session, attempt, outcome),
        appeal=appeal,
        can_appeal=own and why_no_appeal(outcome, appeal) is None,
        void_reason=_void_reason(session, outcome if visible else None, appeal),
        earns=credential_of_attempt(session, attempt),
    )


def credential_of_attempt(session: Session, attempt: Attempt) -> CredentialTerms:
    """The credential (and its level) that a pass on this attempt's blueprint earns."""
    version = session.get(BlueprintVersion, attempt.blueprint_version_id)
    assert version is not None
    return terms_of(session, version)


def require_result(session: Session, viewer: Actor, attempt_id: int) -> AttemptResult:
    """The outcome this viewer may see, or a 404 while there is none."""
    view = result_for(session, viewer, require_attempt_for_viewer(session, viewer, attempt_id))
    if view.outcome is None:
        raise Problem(404, "No result yet", "The result is not available yet.")
    return view.outcome
