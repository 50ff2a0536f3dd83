"""The rules of items: authoring, versioning, the review workflow, enemies, search."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from core.paging import Page, paginate
from item_bank.models import (
    Framework,
    FrameworkNode,
    Item,
    ItemComment,
    ItemEnemy,
    ItemStatus,
    ItemVersion,
    ItemVersionCompetency,
    NodeKind,
    ReviewAction,
)
from item_bank.schemas import ItemContent, content_errors


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


class ItemInvalid(Problem):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(
            422,
            "The item is not valid",
            " ".join(f"{e.field}: {e.message}" for e in errors),
            errors=errors,
            slug="validation",
        )


# ---- validation against the bank ----------------------------------------------------------


def resolve_competencies(
    session: Session, framework: Framework, codes: list[str]
) -> list[FrameworkNode]:
    nodes = {
        node.code: node
        for node in session.scalars(
            select(FrameworkNode).where(
                FrameworkNode.framework_id == framework.id, FrameworkNode.code.in_(codes)
            )
        )
    }
    errors = []
    for code in codes:
        node = nodes.get(code)
        if node is None or node.retired:
            errors.append(FieldError("competencies", f"Unknown competency code {code}."))
        elif node.kind != NodeKind.COMPETENCY:
            errors.append(
                FieldError("competencies", f"{code} is a {node.kind}; tag a leaf competency.")
            )
    if errors:
        raise ItemInvalid(errors)
    return [nodes[code] for code in codes]


def enemy_items(session: Session, refs: list[str], own_ref: str | None) -> list[Item]:
    if own_ref and own_ref in refs:
        raise ItemInvalid([FieldError("enemies", "An item cannot be its own enemy.")])
    found = {item.ref: item for item in session.scalars(select(Item).where(Item.ref.in_(refs)))}
    missing = [ref for ref in refs if ref not in found]
    if missing:
        raise ItemInvalid([FieldError("enemies", f"No item with ref {', '.join(missing)}.")])
    return [found[ref] for ref in refs]


def check_content(
    session: Session, framework: Framework, content: ItemContent
) -> list[FrameworkNode]:
    errors = content_errors(content)
    if errors:
        raise ItemInvalid(errors)
    return resolve_competencies(session, framework, content.competencies)


# ---- authoring -------------------------------------------------------------------------------


def new_version(
    item: Item, number: int, content: ItemContent, nodes: list[FrameworkNode], actor_id: int | None
) -> ItemVersion:
    version = ItemVersion(
        item=item,
        number=number,
        status=ItemStatus.DRAFT,
        author_id=actor_id,
        contributor_ids=[actor_id] if actor_id else [],
        created_at=clock.now(),
    )
    apply_content(version, content, nodes)
    return version


def apply_content(version: ItemVersion, content: ItemContent, nodes: list[FrameworkNode]) -> None:
    version.type = content.type
    version.stem = content.stem
    version.options = list(content.options)
    version.keys = sorted(content.keys)
    version.choose = content.choose
    version.rationale = content.rationale
    version.references = list(content.references)
    version.cognitive_level = content.cognitive_level
    version.primary_code = nodes[0].code
    version.competency_links = [
        ItemVersionCompetency(node=node, position=position) for position, node in enumerate(nodes)
    ]


def _generated_ref(primary_code: str) -> str:
    return f"{primary_code}-{secrets.token_hex(3)}"


def create_item(session: Session, actor: Actor, framework: Framework, content: ItemContent) -> Item:
    """A new item whose first version is a draft by ``actor``; audited."""
    nodes = check_content(session, framework, content)
    ref = content.ref or _generated_ref(nodes[0].code)
    if session.scalars(select(Item.id).where(Item.ref == ref)).first() is not None:
        raise Problem(
            409,
            "Reference taken",
            f"An item with ref {ref} exists.",
            errors=[FieldError("ref", "Already used.")],
        )
    enemies = enemy_items(session, content.enemies, ref)
    item = Item(
        ref=ref, framework_id=framework.id, created_by=actor.id, created_at=clock.now(), revision=1
    )
    session.add(item)
    version = new_version(item, 1, content, nodes, actor.id)
    session.add(version)
    session.flush()
    set_enemies(session, item, enemies)
    audit.record(
        session,
        actor_id=actor.id,
        action="item.created",
        object_type="item",
        object_id=item.id,
        after={"ref": ref, "version": 1, "status": ItemStatus.DRAFT},
    )
    session.commit()
    return item


def update_item(session: Session, actor: Actor, item: Item, content: ItemContent) -> ItemVersion:
    """Edit the draft in place, or start a new draft version from an approved/retired one.

    A version in review is frozen (withdraw it first); a stale ``revision`` is a 409.
    """
    framework = session.get(Framework, item.framework_id)
    assert framework is not None
    nodes = check_content(session, framework, content)
    if content.ref and content.ref != item.ref:
        raise ItemInvalid([FieldError("ref", "An item's ref never changes.")])
    enemies = enemy_items(session, content.enemies, item.ref)
    head = item.head
    if head.status == ItemStatus.IN_REVIEW:
        raise Problem(
            409, "In review", "This version is being reviewed; withdraw it before editing."
        )
    if content.revision is None or content.revision != item.revision:
        raise stale_revision(item, content.revision)
    before = {"version": head.number, "status": head.status, **_brief(head)}
    if head.status == ItemStatus.DRAFT:
        apply_content(head, content, nodes)
        if actor.id not in head.contributor_ids:
            head.contributor_ids = [*head.contributor_ids, actor.id]
        version, action = head, "item.draft_edited"
    else:
        version = new_version(item, head.number + 1, content, nodes, actor.id)
        session.add(version)
        action = "item.version_created"
    item.revision += 1
    try:
        session.flush()
    except IntegrityError as exc:  # another editor created the same version number first
        session.rollback()
        raise stale_revision(item, content.revision) from exc
    set_enemies(session, item, enemies)
    audit.record(
        session,
        actor_id=actor.id,
        action=action,
        object_type="item",
        object_id=item.id,
        before=before,
        after={"version": version.number, "status": version.status, **_brief(version)},
    )
    session.commit()
    return version


def stale_revision(item: Item, given: int | None) -> Problem:
    return Problem(
        409,
        "Edited by someone else",
        f"This item changed since you opened it (revision {item.revision}, yours {given}). "
        "Reload it and apply your change again.",
        errors=[FieldError("revision", f"Send the current revision, {item.revision}.")],
        extra={"revision": item.revision},
    )


def _brief(version: ItemVersion) -> dict[str, Any]:
    return {
        "stem": version.stem[:120],
        "keys": list(version.keys),
        "competencies": version.competency_codes,
    }


def set_enemies(session: Session, item: Item, enemies: Iterable[Item]) -> None:
    """Replace ``item``'s enemies; the relation is symmetric and stored once per pair."""
    session.execute(
        delete(ItemEnemy).where(or_(ItemEnemy.item_id == item.id, ItemEnemy.enemy_id == item.id))
    )
    for other in {enemy.id: enemy for enemy in enemies}.values():
        low, high = sorted((item.id, other.id))
        session.add(ItemEnemy(item_id=low, enemy_id=high))


def enemy_refs(session: Session, item_id: int) -> list[str]:
    ids = session.execute(
        select(ItemEnemy.item_id, ItemEnemy.enemy_id).where(
            or_(ItemEnemy.item_id == item_id, ItemEnemy.enemy_id == item_id)
        )
    ).all()
    others = {low if high == item_id else high for low, high in ids}
    if not others:
        return []
    return sorted(session.scalars(select(Item.ref).where(Item.id.in_(others))))


# ---- workflow ----------------------------------------------------------------------------------


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
    session: Session, actor: Actor, item: Item, action: str, comment: str = ""
) -> ItemVersion:
    """Move the item's newest version along the workflow; audited, with the comment kept."""
    step = _known_step(action)
    head = item.head
    _check_allowed(actor, item, step)
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
        after={"version": head.number, "status": head.status, "comment": comment or None},
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


# ---- reading ------------------------------------------------------------------------------------


def get_item(session: Session, item_id: int) -> Item | None:
    query = select(Item).where(Item.id == item_id).options(selectinload(Item.versions))
    return session.scalars(query).one_or_none()


def comments_for(session: Session, item_id: int) -> list[ItemComment]:
    return list(
        session.scalars(
            select(ItemComment).where(ItemComment.item_id == item_id).order_by(ItemComment.id)
        )
    )


@dataclass(frozen=True)
class ItemFilters:
    text: str = ""
    competency: str = ""  # a code of any level: a leaf, an area, a section, a part
    status: str = ""
    type: str = ""
    framework_id: int | None = None


def head_versions_query(filters: ItemFilters) -> Any:
    newest = (
        select(ItemVersion.item_id, func.max(ItemVersion.number).label("number"))
        .group_by(ItemVersion.item_id)
        .subquery()
    )
    query = (
        select(ItemVersion)
        .join(
            newest,
            (ItemVersion.item_id == newest.c.item_id) & (ItemVersion.number == newest.c.number),
        )
        .join(Item, Item.id == ItemVersion.item_id)
    )
    if filters.framework_id:
        query = query.where(Item.framework_id == filters.framework_id)
    if filters.status:
        query = query.where(ItemVersion.status == filters.status)
    if filters.type:
        query = query.where(ItemVersion.type == filters.type)
    if filters.competency:
        code = filters.competency
        tagged = (
            select(ItemVersionCompetency.version_id)
            .join(FrameworkNode)
            .where(
                or_(
                    FrameworkNode.code == code,
                    FrameworkNode.code.startswith(code + ".", autoescape=True),
                )
            )
        )
        query = query.where(ItemVersion.id.in_(tagged))
    if filters.text:
        needle = filters.text.lower()
        query = query.where(
            or_(
                func.lower(ItemVersion.stem).contains(needle, autoescape=True),
                func.lower(Item.ref).contains(needle, autoescape=True),
            )
        )
    return query


def search_items(
    session: Session, filters: ItemFilters, page: int = 1, per_page: int = 25
) -> Page[ItemVersion]:
    query = head_versions_query(filters).order_by(ItemVersion.primary_code, Item.ref)
    return paginate(session, query.options(selectinload(ItemVersion.item)), page, per_page)


def require_item(session: Session, item_id: int) -> Item:
    item = get_item(session, item_id)
    if item is None:
        raise Problem(404, "No such item", f"There is no item {item_id}.")
    return item


def review_queue(session: Session, actor: Actor) -> list[ItemVersion]:
    """Versions waiting for review, oldest first; ones the actor wrote are left out."""
    query = (
        select(ItemVersion)
        .where(ItemVersion.status == ItemStatus.IN_REVIEW)
        .where(or_(ItemVersion.author_id.is_(None), ItemVersion.author_id != actor.id))
        .order_by(ItemVersion.submitted_at, ItemVersion.id)
        .options(selectinload(ItemVersion.item))
    )
    return list(session.scalars(query))
