"""Reading the bank: single items, their comments, search, the review queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.auth import Actor
from core.errors import Problem
from core.paging import Page, paginate
from item_bank.models import (
    FrameworkNode,
    Item,
    ItemComment,
    ItemStatus,
    ItemVersion,
    ItemVersionCompetency,
)


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
