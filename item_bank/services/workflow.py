"""The review workflow: the steps an item's newest version takes, and who may take them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from item_bank.models import Item, ItemComment, ItemStatus, ItemVersion, ReviewAction
from item_bank.review_checklist import require_confirmed
from item_bank.services.review_revision import require_reviewed_revision


@dataclass(frozen=True)
class Step:
    action: ReviewAction
    sources: tuple[ItemStatus, ...]
    target: ItemStatus
    roles: tuple[str, ...]
    comment_required: bool
    label: str


STEPS: dict[str, Step] = {
    step.action: step
    for step in (
        Step(
            ReviewAction.SUBMIT,
            (ItemStatus.DRAFT,),
            ItemStatus.IN_REVIEW,
            ("item_writer",),
            False,
            "Submit for review",
        ),
        Step(
            ReviewAction.WITHDRAW,
            (ItemStatus.IN_REVIEW,),
            ItemStatus.DRAFT,
            ("item_writer",),
            False,
            "Withdraw from review",
        ),
        Step(
            ReviewAction.APPROVE,
            (ItemStatus.IN_REVIEW,),
            ItemStatus.APPROVED,
            ("item_reviewer",),
            False,
            "Approve",
        ),
        Step(
            ReviewAction.RETURN,
            (ItemStatus.IN_REVIEW,),
            ItemStatus.DRAFT,
            ("item_reviewer",),
            True,
            "Return to author",
        ),
        Step(
            ReviewAction.RETIRE,
            (ItemStatus.APPROVED, ItemStatus.DRAFT),
            ItemStatus.RETIRED,
            ("item_reviewer", "exam_admin"),
            True,
            "Retire",
        ),
    )
}
# Retiring takes the whole item out of service: its live version and any draft.
_RETIRED_WITH_ITEM = (ItemStatus.APPROVED, ItemStatus.DRAFT, ItemStatus.IN_REVIEW)
STAFF_ROLES = ("item_writer", "item_reviewer", "exam_admin")
IMPORT_STATUSES = (ItemStatus.DRAFT, ItemStatus.IN_REVIEW, ItemStatus.APPROVED)
# A reviewer's decisions name the content revision they read (see review_revision).
BOUND_TO_CONTENT = (ReviewAction.APPROVE, ReviewAction.RETURN)


def allowed_steps(actor: Actor, item: Item) -> list[Step]:
    head = item.head
    return [
        step
        for step in STEPS.values()
        if head.status in step.sources
        and actor.has_role(*step.roles)
        and not _blocked(actor, step, head)
    ]


def _blocked(actor: Actor, step: Step, version: ItemVersion) -> str | None:
    wrote_it = version.author_id == actor.id or actor.id in (version.contributor_ids or [])
    if step.action == ReviewAction.APPROVE and wrote_it:
        return "Whoever wrote or edited a version cannot approve it; another reviewer must."
    return None


def take_step(
    session: Session,
    actor: Actor,
    item: Item,
    action: str,
    comment: str = "",
    revision: str | None = None,
    checked: Collection[str] = (),
) -> ItemVersion:
    """Move the item's newest version along the workflow; audited, with the comment kept.
    Approving or returning needs the content ``revision`` the reviewer read (409 if stale);
    approving needs every point of the review checklist ``checked``, and the audit row
    keeps which points the reviewer confirmed."""
    step = _known_step(action)
    head = item.head
    _check_allowed(actor, item, step)
    if step.action in BOUND_TO_CONTENT:
        require_reviewed_revision(item, head, revision)
    confirmed = (
        require_confirmed(session, head, checked) if step.action == ReviewAction.APPROVE else None
    )
    comment = _checked_comment(step, comment)
    before = head.status
    _move(actor, item, head, step.target)
    item.revision += 1
    if comment:
        session.add(
            ItemComment(
                item_id=item.id,
                version_id=head.id,
                author_id=actor.id,
                action=step.action,
                body=comment,
                created_at=clock.now(),
            )
        )
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action=f"item.{step.action}",
        object_type="item",
        object_id=item.id,
        before={"version": head.number, "status": before},
        after={
            "version": head.number,
            "status": head.status,
            "comment": comment or None,
            **({"checked": confirmed} if confirmed is not None else {}),
        },
    )
    session.commit()
    return head


def _known_step(action: str) -> Step:
    step = STEPS.get(action)
    if step is None:
        raise Problem(
            422,
            "Unknown action",
            f"Use one of: {', '.join(STEPS)}.",
            errors=[FieldError("action", "Unknown action.")],
        )
    return step


def _check_allowed(actor: Actor, item: Item, step: Step) -> None:
    head = item.head
    if head.status not in step.sources or not actor.has_role(*step.roles):
        possible = [s.action for s in allowed_steps(actor, item)]
        raise Problem(
            409,
            "Not allowed now",
            f"Cannot {step.action} a {head.status.replace('_', ' ')} version"
            + (
                f" with your roles. You can: {', '.join(possible)}."
                if possible
                else " with your roles."
            ),
            extra={"allowed_actions": possible},
        )
    reason = _blocked(actor, step, head)
    if reason:
        raise Problem(403, "Not allowed", reason)


def _checked_comment(step: Step, comment: str) -> str:
    comment = comment.strip()
    if step.comment_required and not comment:
        raise Problem(
            422,
            "Comment needed",
            f"Say why ({step.action}).",
            errors=[FieldError("comment", "Required.")],
        )
    if len(comment) > 4000:
        raise Problem(
            422,
            "Comment too long",
            "At most 4000 characters.",
            errors=[FieldError("comment", "Too long.")],
        )
    return comment


def _move(actor: Actor, item: Item, head: ItemVersion, target: ItemStatus) -> None:
    if target == ItemStatus.APPROVED:
        supersede_live(item, head)
        head.approved_at, head.approved_by = clock.now(), actor.id
    if target == ItemStatus.IN_REVIEW:
        head.submitted_at = clock.now()
    head.status = target
    if target == ItemStatus.RETIRED:
        for version in item.versions:
            if version.status in _RETIRED_WITH_ITEM:
                version.status = ItemStatus.RETIRED


def supersede_live(item: Item, new_live: ItemVersion) -> None:
    for version in item.versions:
        if version.status == ItemStatus.APPROVED and version is not new_live:
            version.status = ItemStatus.SUPERSEDED


def check_import_status(actor: Actor, status: str) -> ItemStatus:
    """The status items are imported in: drafts or in review; approved for exam admins."""
    allowed = {ItemStatus.DRAFT, ItemStatus.IN_REVIEW}
    if actor.has_role("exam_admin"):
        allowed.add(ItemStatus.APPROVED)
    if status not in allowed:
        raise Problem(
            403, "Not allowed", f"Your roles may import items as: {', '.join(sorted(allowed))}."
        )
    return ItemStatus(status)
