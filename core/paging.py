"""One page of a query's rows, for every list with paging."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def paginate(session: Session, query: Select[Any], page: int, per_page: int = 25) -> Page[Any]:
    """Rows of ``query`` (already ordered) for ``page``; a page past the end shows the last."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    last = max(1, math.ceil(total / per_page))
    page = min(max(1, page), last)
    rows = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page)))
    return Page(rows, total, page, per_page)
