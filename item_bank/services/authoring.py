"""Authoring items: creating them, editing drafts, new versions, enemies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from item_bank.models import (
    Framework,
    FrameworkNode,
    Item,
    ItemEnemy,
    ItemStatus,
    ItemVersion,
    ItemVersionCompetency,
)
from item_bank.schemas import ItemContent
from item_bank.services import stimuli
from item_bank.services.checks import ItemInvalid, check_content, enemy_items
from item_bank.services.media_rules import version_media


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
    version.shuffle = content.shuffle
    version.fixed = sorted(set(content.fixed))
    version.label = content.label
    version.rationale = content.rationale
    version.references = list(content.references)
    version.cognitive_level = content.cognitive_level
    version.primary_code = nodes[0].code
    version.competency_links = [
        ItemVersionCompetency(node=node, position=position) for position, node in enumerate(nodes)
    ]
    version.media = version_media(version, content)


def _generated_ref(session: Session, primary_code: str) -> str:
    """The primary competency and the next free number after it (``CU.SK.COMM.04-7``), as
    the editor's hint promises."""
    prefix = f"{primary_code}-"
    refs = session.scalars(select(Item.ref).where(Item.ref.startswith(prefix, autoescape=True)))
    suffixes = (ref[len(prefix) :] for ref in refs)
    numbers = [int(suffix) for suffix in suffixes if suffix.isascii() and suffix.isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def create_item(session: Session, actor: Actor, framework: Framework, content: ItemContent) -> Item:
    """A new item whose first version is a draft by ``actor``; audited."""
    nodes = check_content(session, framework, content)
    ref = content.ref or _generated_ref(session, nodes[0].code)
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
    stimuli.attach(session, framework, version, content.stimulus, actor.id)
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
        stimuli.attach(session, framework, head, content.stimulus, actor.id, previous=head)
        if actor.id not in head.contributor_ids:
            head.contributor_ids = [*head.contributor_ids, actor.id]
        version, action = head, "item.draft_edited"
    else:
        version = new_version(item, head.number + 1, content, nodes, actor.id)
        session.add(version)
        stimuli.attach(session, framework, version, content.stimulus, actor.id, previous=head)
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
        "stimulus": version.stimulus_version.ref if version.stimulus_version else None,
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
