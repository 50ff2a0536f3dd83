"""Invalidating or re-keying an item version, rescoring every affected attempt, and appeals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import FieldError, Problem
from exam.grading import grade, grade_many
from exam.models import (
    FINISHED_STATES,
    Appeal,
    Attempt,
    AttemptItem,
    AttemptResult,
    ScoringDecision,
)
from exam.sittings import Actor
from item_bank.models import Item, ItemVersion
from item_bank.schemas import LETTERS

APPEAL_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ChangedOutcome:
    attempt_id: int
    candidate_id: int
    before: str | None
    after: str


def _reason(text: str, field: str = "reason") -> str:
    text = text.strip()
    if not text or len(text) > 4000:
        raise Problem(
            422,
            "Reason needed",
            "Say why (at most 4,000 characters); candidates see it.",
            errors=[FieldError(field, "Required.")],
        )
    return text


def _version(session: Session, item_id: int, number: int | None) -> ItemVersion:
    item = session.get(Item, item_id)
    if item is None:
        raise Problem(404, "No such item", f"There is no item {item_id}.")
    versions = item.versions
    chosen = next((v for v in versions if v.number == number), None) if number else item.live
    if chosen is None:
        raise Problem(
            422,
            "Which version?",
            "Name the version to rescore (the item has no live version).",
            errors=[FieldError("version", "Unknown version.")],
        )
    return chosen


def rescore_attempts(
    session: Session, attempt_ids: list[int], notes: tuple[str, ...] = ()
) -> list[ChangedOutcome]:
    """Grade the finished attempts again, in bulk; list those whose outcome changed."""
    attempts = [
        attempt
        for start in range(0, len(attempt_ids), 2000)
        for attempt in session.scalars(
            select(Attempt).where(
                Attempt.id.in_(attempt_ids[start : start + 2000]),
                Attempt.status.in_(FINISHED_STATES),
            )
        )
    ]
    before = {
        r.attempt_id: r.result
        for start in range(0, len(attempt_ids), 2000)
        for r in session.scalars(
            select(AttemptResult).where(
                AttemptResult.attempt_id.in_(attempt_ids[start : start + 2000])
            )
        )
    }
    after = grade_many(session, attempts, notes)
    return [
        ChangedOutcome(a.id, a.candidate_id, before.get(a.id), after[a.id])
        for a in attempts
        if before.get(a.id) != after[a.id]
    ]


def decide_scoring(
    session: Session,
    actor: Actor,
    item_id: int,
    *,
    action: str,
    reason: str,
    version_number: int | None = None,
    keys: list[str] | None = None,
) -> list[ChangedOutcome]:
    """Stop scoring an item version, or correct its key, and rescore every attempt that used
    it, all in one transaction; audited, with the flipped outcomes listed."""
    if action not in ("do_not_score", "correct_key"):
        raise Problem(
            422,
            "Unknown action",
            "Use do_not_score or correct_key.",
            errors=[FieldError("action", "Unknown action.")],
        )
    version = _version(session, item_id, version_number)
    new_keys = sorted(set(keys or []))
    if action == "correct_key":
        allowed = LETTERS[: len(version.options)]
        if not new_keys or any(k not in allowed for k in new_keys):
            raise Problem(
                422,
                "Invalid key",
                f"Give the corrected key among {', '.join(allowed)}.",
                errors=[FieldError("keys", "Invalid key.")],
            )
    decision = session.get(ScoringDecision, version.id) or ScoringDecision(
        item_version_id=version.id
    )
    before = {"action": decision.action, "keys": decision.keys} if decision.decided_at else None
    decision.action, decision.keys, decision.reason = action, new_keys or None, _reason(reason)
    decision.decided_by, decision.decided_at = actor.id, clock.now()
    session.add(decision)
    session.flush()
    affected = list(
        session.scalars(
            select(AttemptItem.attempt_id).where(AttemptItem.item_version_id == version.id)
        )
    )
    changed = rescore_attempts(session, affected)
    audit.record(
        session,
        actor_id=actor.id,
        action=f"item.{action}",
        object_type="item",
        object_id=item_id,
        before=before,
        after={
            "version": version.number,
            "keys": new_keys or None,
            "reason": decision.reason,
            "attempts_rescored": len(affected),
            "outcomes_changed": len(changed),
        },
    )
    session.commit()
    return changed


# ---- appeals -------------------------------------------------------------------------------


def file_appeal(session: Session, candidate: Actor, attempt_id: int, statement: str) -> Appeal:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.candidate_id != candidate.id:
        raise Problem(404, "No such attempt", "")
    result = session.get(AttemptResult, attempt_id)
    if result is None or not result.released:
        raise Problem(409, "No result yet", "You can appeal once your result is out.")
    if clock.now() > result.graded_at + APPEAL_WINDOW:
        raise Problem(409, "Too late", "Appeals are accepted within 30 days of the result.")
    if session.scalars(select(Appeal).where(Appeal.attempt_id == attempt_id)).first():
        raise Problem(409, "Already appealed", "This result has an appeal already.")
    appeal = Appeal(
        attempt_id=attempt_id,
        candidate_id=candidate.id,
        statement=_reason(statement, "statement"),
        status="submitted",
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


def decide_appeal(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    *,
    upheld: bool,
    reason: str,
    remedy: str = "none",
) -> Appeal:
    """Uphold (voiding the attempt or rescoring it) or deny; audited, shown to the candidate."""
    if appeal.status != "submitted":
        raise Problem(409, "Already decided", f"This appeal was {appeal.status}.")
    if upheld and remedy not in ("void", "rescore"):
        raise Problem(
            422,
            "Remedy needed",
            "An upheld appeal voids the attempt or orders a rescore.",
            errors=[FieldError("remedy", "void or rescore.")],
        )
    appeal.status, appeal.remedy = ("upheld", remedy) if upheld else ("denied", "none")
    appeal.decision_reason, appeal.decided_by, appeal.decided_at = (
        _reason(reason),
        actor.id,
        clock.now(),
    )
    attempt = session.get(Attempt, appeal.attempt_id)
    assert attempt is not None
    if upheld and remedy == "void":
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
    session.commit()
    return appeal


def appeal_queue(session: Session) -> list[Appeal]:
    return list(
        session.scalars(
            select(Appeal).where(Appeal.status == "submitted").order_by(Appeal.submitted_at)
        )
    )


def appeal_for(session: Session, attempt_id: int) -> Appeal | None:
    return session.scalars(select(Appeal).where(Appeal.attempt_id == attempt_id)).first()
