"""Export: each item's newest version as an exchange record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from item_bank import services
from item_bank.models import Framework, Item, ItemEnemy


def export_records(
    session: Session, framework: Framework, status: str = ""
) -> list[dict[str, Any]]:
    """Each item's newest version as an exchange record, ordered by ref."""
    filters = services.ItemFilters(framework_id=framework.id, status=status)
    versions = list(session.scalars(services.head_versions_query(filters)))
    refs = dict(
        session.execute(select(Item.id, Item.ref).where(Item.framework_id == framework.id)).all()
    )
    enemies: dict[int, set[str]] = {}
    for low, high in session.execute(select(ItemEnemy.item_id, ItemEnemy.enemy_id)):
        if low in refs and high in refs:
            enemies.setdefault(low, set()).add(refs[high])
            enemies.setdefault(high, set()).add(refs[low])
    records = [
        {
            "ref": refs[version.item_id],
            **version.content(),
            "enemies": sorted(enemies.get(version.item_id, ())),
            "status": version.status,
            "version": version.number,
        }
        for version in versions
    ]
    return sorted(records, key=lambda record: record["ref"])
