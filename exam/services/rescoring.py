"""Invalidating or re-keying an item version, rescoring every affected attempt, and appeals."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, events
from core.auth import Actor
from core.errors import FieldError, Problem
from exam.models import (
    FINISHED_ATTEMPT,
    Attempt,
    AttemptItem,
    AttemptResult,
    Outcome,
    ScoringAction,
    ScoringDecision,
)
from exam.services.duties import refuse_own_scoring
from exam.services.grading import grade_many
from exam.services.problems import required_text
from item_bank.models import Item, ItemVersion
from item_bank.schemas import LETTERS


@dataclass(frozen=True)
class ChangedOutcome:
    attempt_id: int
    candidate_id: int
    before: str | None
    after: str


@dataclass(frozen=True)
class Rescored:
    """What a scoring decision does: the item version, how many finished attempts it
    rescores, the outcomes that change, and what the room that issues certificates did
    about them (issued, revoked, reinstated, superseded, or untouched and why), as it
    reported while the rescoring ran."""

    item_id: int
    version: int
    attempts: int
    changed: list[ChangedOutcome]
    certificates: list[events.Consequence]

    def certificates_of(self, attempt_id: int) -> list[events.Consequence]:
        return [c for c in self.certificates if c.about == attempt_id]

    def certificates_by_kind(self) -> dict[str, list[events.Consequence]]:
        return _by_kind(self.certificates)

    @property
    def passes_gained(self) -> list[ChangedOutcome]:
        return [c for c in self.changed if c.after == Outcome.PASS]

    @property
    def passes_lost(self) -> list[ChangedOutcome]:
        return [c for c in self.changed if c.before == Outcome.PASS]


def _by_kind(consequences: list[events.Consequence]) -> dict[str, list[events.Consequence]]:
    kinds: dict[str, list[events.Consequence]] = {}
    for consequence in consequences:
        kinds.setdefault(consequence.kind, []).append(consequence)
    return kinds


def staff_reason(text: str, field: str = "reason") -> str:
    return required_text(
        text, field, 4000, "Say why (at most 4,000 characters); candidates see it."
    )


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
) -> tuple[int, list[ChangedOutcome]]:
    """Grade the finished attempts again, in bulk: how many were, and those whose outcome
    changed."""
    attempts = [
        attempt
        for start in range(0, len(attempt_ids), 2000)
        for attempt in session.scalars(
            select(Attempt).where(
                Attempt.id.in_(attempt_ids[start : start + 2000]),
                Attempt.status.in_(FINISHED_ATTEMPT),
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
    return len(attempts), [
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
    preview: bool = False,
) -> Rescored:
    """Stop scoring an item version, or correct its key, and rescore every attempt that used
    it, all in one transaction; audited, with the flipped outcomes listed. A ``preview``
    does all of it, the certificates it would issue or revoke included, then rolls it
    back: what the preview shows is what confirming does (a new certificate's code
    apart, drawn when it is issued)."""
    if action not in tuple(ScoringAction):
        raise Problem(
            422,
            "Unknown action",
            "Use do_not_score or correct_key.",
            errors=[FieldError("action", "Unknown action.")],
        )
    version = _version(session, item_id, version_number)
    refuse_own_scoring(session, actor, version.id)
    new_keys = sorted(set(keys or []))
    if action == ScoringAction.CORRECT_KEY:
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
    decision.action, decision.keys, decision.reason = action, new_keys or None, staff_reason(reason)
    decision.decided_by, decision.decided_at = actor.id, clock.now()
    session.add(decision)
    session.flush()
    affected = list(
        session.scalars(
            select(AttemptItem.attempt_id).where(AttemptItem.item_version_id == version.id)
        )
    )
    with events.collect(session) as certificates:
        finished, changed = rescore_attempts(session, affected)
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
            "attempts_rescored": finished,
            "outcomes_changed": len(changed),
            "certificates": {k: len(v) for k, v in _by_kind(certificates).items()},
        },
    )
    if preview:
        session.rollback()
    else:
        session.commit()
    return Rescored(item_id, version.number, finished, changed, certificates)


def parse_keys(text: str) -> list[str]:
    """Corrected key letters as staff type them: ``b`` or ``A, C``."""
    return [key.strip().upper() for key in text.split(",") if key.strip()]


def require_item_by_ref(session: Session, ref: str) -> Item:
    item = session.scalars(select(Item).where(Item.ref == ref.strip())).first()
    if item is None:
        raise Problem(404, "No such item", f"No item has the ref {ref}.")
    return item
