"""A blueprint version's areas as the assembler and the grader see them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam.services.assembly import AreaRule
from item_bank.models import FrameworkNode


def area_rules(session: Session, spec: dict[str, Any], framework_id: int) -> list[AreaRule]:
    nodes = session.scalars(
        select(FrameworkNode)
        .where(FrameworkNode.framework_id == framework_id, FrameworkNode.retired.is_(False))
        .order_by(FrameworkNode.position)
    ).all()
    by_code = {node.code: node for node in nodes}
    rules = []
    for area in spec["areas"]:
        node = by_code[area["code"]]
        children = [n for n in nodes if n.parent_id == node.id]
        rules.append(
            AreaRule(
                area["code"],
                area["title"],
                area["items"],
                tuple(c.code for c in children),
                tuple(c.label for c in children),
            )
        )
    return rules
