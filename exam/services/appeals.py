"""Appeals: filed by the candidate within the window, decided by the exam team."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.duties import require_not_party
from core.errors import FieldError, Problem
from exam.models import Appeal, AppealRemedy, AppealStatus, Attempt, Outcome
from exam.services.grading import get_result, grade
from exam.services.rescoring import rescore_attempts, staff_reason
from exam.services.results import get_appeal, why_no_appeal

UPHELD_REMEDIES = (AppealRemedy.VOID, AppealRemedy.RESCORE)


def file_appeal(session: Session, candidate: Actor, attempt_id: int, statement: str) -> Appeal:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.candidate_id != candidate.id:
        raise Problem(404, "No such attempt", "")
    refusal = why_no_appeal(get_result(session, attempt_id), get_appeal(session, attempt_id))
    if refusal is not None:
        raise refusal
    appeal = Appeal(
        attempt_id=attempt_id,
        candidate_id=candidate.id,
        statement=staff_reason(statement, "statement"),
        status=AppealStatus.SUBMITTED,
        submitted_at=clock.now(),
    )
    session.add(appeal)
    session.flush()
    audit.record(
        session,
        actor_id=candidate.id,
        action="appeal.filed",
        object_type="appeal",
        object_id=appeal.id,
        after={"attempt": attempt_id},
    )
    session.commit()
    return appeal


@dataclass(frozen=True)
class AppealOutcome:
    """The attempt's result before the decision and after it."""

    before: str | None
    percent_before: float | None
    after: str | None
    percent_after: float | None

    @property
    def pass_lost(self) -> bool:
        return self.before == Outcome.PASS and self.after != Outcome.PASS

    @property
    def pass_gained(self) -> bool:
        return self.before != Outcome.PASS and self.after == Outcome.PASS


def decide_appeal(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    *,
    upheld: bool,
    reason: str,
    remedy: str = AppealRemedy.NONE,
    preview: bool = False,
) -> AppealOutcome:
    """Uphold (voiding the attempt or rescoring it) or deny; audited, shown to the candidate.
    A ``preview`` takes the decision, every check and the certificate it issues or revokes
    included, then rolls it back: what the preview shows is what confirming does."""
    before = get_result(session, appeal.attempt_id)
    result_before, percent_before = (before.result, before.percent) if before else (None, None)
    _apply_decision(session, actor, appeal, upheld, reason, remedy)
    session.flush()
    session.expire_all()  # the grading writes in bulk, past the identity map
    after = get_result(session, appeal.attempt_id)
    outcome = AppealOutcome(
        result_before,
        percent_before,
        after.result if after else None,
        after.percent if after else None,
    )
    if preview:
        session.rollback()
    else:
        session.commit()
    return outcome


def _apply_decision(
    session: Session, actor: Actor, appeal: Appeal, upheld: bool, reason: str, remedy: str
) -> None:
    require_not_party(
        actor.id, [appeal.candidate_id], action="decide this appeal", because="it is your own"
    )
    if appeal.status != AppealStatus.SUBMITTED:
        raise Problem(409, "Already decided", f"This appeal was {appeal.status}.")
    if upheld and remedy not in UPHELD_REMEDIES:
        raise Problem(
            422,
            "Remedy needed",
            "An upheld appeal voids the attempt or orders a rescore.",
            errors=[FieldError("remedy", "void or rescore.")],
        )
    appeal.status, appeal.remedy = (
        (AppealStatus.UPHELD, remedy) if upheld else (AppealStatus.DENIED, AppealRemedy.NONE)
    )
    appeal.decision_reason, appeal.decided_by, appeal.decided_at = (
        staff_reason(reason),
        actor.id,
        clock.now(),
    )
    attempt = session.get(Attempt, appeal.attempt_id)
    assert attempt is not None
    if upheld and remedy == AppealRemedy.VOID:
        grade(session, attempt, (f"Voided on appeal: {appeal.decision_reason}",), void=True)
    elif upheld:
        rescore_attempts(session, [attempt.id], (f"Rescored on appeal: {appeal.decision_reason}",))
    audit.record(
        session,
        actor_id=actor.id,
        action=f"appeal.{appeal.status}",
        object_type="appeal",
        object_id=appeal.id,
        after={"remedy": appeal.remedy, "reason": appeal.decision_reason},
    )


def appeal_queue(session: Session) -> list[Appeal]:
    return list(
        session.scalars(
            select(Appeal)
            .where(Appeal.status == AppealStatus.SUBMITTED)
            .order_by(Appeal.submitted_at)
        )
    )


def require_appeal(session: Session, appeal_id: int | None) -> Appeal:
    appeal = session.get(Appeal, appeal_id) if appeal_id else None
    if appeal is None:
        raise Problem(404, "No such appeal", "There is no such appeal.")
    return appeal
