"""Checking an item's content against the bank: its competencies and its enemies."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import FieldError, Problem
from item_bank.models import Framework, FrameworkNode, Item, NodeKind
from item_bank.schemas import ItemContent, content_errors
from item_bank.services.media_rules import media_errors


class ItemInvalid(Problem):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(
            422,
            "The item is not valid",
            " ".join(f"{e.field}: {e.message}" for e in errors),
            errors=errors,
            slug="validation",
        )


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
    errors = content_errors(content) + media_errors(session, content.media)
    if errors:
        raise ItemInvalid(errors)
    return resolve_competencies(session, framework, content.competencies)
