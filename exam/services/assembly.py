"""Drawing a form to a blueprint: pure rules over a pool of approved items.

The rules, in order of strength: exactly the blueprint's count per area, spread
over its sub-areas as evenly as the bank allows (at least one from each); never
two enemy items; items this candidate has not seen before, else the least recently
seen; items under the exposure cap before items over it; then the less exposed;
then chance. Options are shuffled per candidate, except those the author fixed in place
(an item may also keep every option in order; true/false always does).
Everything random comes from one seed, so a form can be rebuilt exactly.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import Problem

LETTERS = "ABCDEF"


@dataclass(frozen=True)
class PoolItem:
    """An approved item version that could go on a form."""

    item_id: int
    version_id: int
    primary_code: str
    option_count: int
    type: str = "single_choice"
    exposure: int = 0  # forms that have used the item
    last_seen: datetime | None = None  # when this candidate last saw it
    shuffle: bool = True  # False: every option stays where the author put it
    fixed: tuple[str, ...] = ()  # letters that keep their place while the others move


@dataclass(frozen=True)
class AreaRule:
    code: str
    title: str
    items: int
    subareas: tuple[str, ...]  # codes of the area's sub-areas, in framework order
    subarea_titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class DrawnItem:
    item: PoolItem
    area: str
    subarea: str
    option_order: tuple[str, ...]


@dataclass
class Form:
    items: list[DrawnItem] = field(default_factory=list)

    @property
    def item_ids(self) -> list[int]:
        return [drawn.item.item_id for drawn in self.items]


class AssemblyError(Problem):
    """The bank cannot give this candidate a form; names the short area. Nothing is created."""

    def __init__(self, area: AreaRule, detail: str) -> None:
        super().__init__(
            409,
            "No form can be drawn",
            f"{area.title} ({area.code}): {detail} Tell the exam administrator; "
            "the item bank's coverage page shows what to add.",
            slug="assembly-failed",
            extra={"area": area.code},
        )


def _under(code: str, prefix: str) -> bool:
    return code == prefix or code.startswith(prefix + ".")


def _priority(item: PoolItem, forms_so_far: int, cap: float, tiebreak: float) -> tuple[float, ...]:
    seen = item.last_seen is not None
    last_seen = item.last_seen.timestamp() if item.last_seen else 0.0
    over_cap = (item.exposure + 1) / (forms_so_far + 1) > cap
    return (seen, last_seen, over_cap, item.exposure, tiebreak)


def _targets(total: int, available: Sequence[int], rng: random.Random) -> list[int]:
    """``total`` spread over sub-areas as evenly as their ``available`` items allow."""
    count = len(available)
    base, extra = divmod(total, count)
    lucky = set(rng.sample(range(count), extra))
    targets = [base + (index in lucky) for index in range(count)]
    while True:
        over = [i for i in range(count) if targets[i] > available[i]]
        if not over:
            return targets
        for index in over:
            deficit = targets[index] - available[index]
            targets[index] = available[index]
            for _ in range(deficit):
                room = [i for i in range(count) if targets[i] < available[i]]
                if not room:
                    return targets
                targets[min(room, key=lambda i: (targets[i], rng.random()))] += 1


class _Picker:
    """Greedy choice by priority, skipping enemies of what is already on the form."""

    def __init__(self, enemies: dict[int, set[int]]) -> None:
        self.enemies = enemies
        self.chosen: set[int] = set()
        self.banned: set[int] = set()

    def take(self, ranked: Iterable[PoolItem], wanted: int) -> list[PoolItem]:
        picked: list[PoolItem] = []
        for item in ranked:
            if len(picked) == wanted:
                break
            if item.item_id in self.chosen or item.item_id in self.banned:
                continue
            picked.append(item)
            self.chosen.add(item.item_id)
            self.banned |= self.enemies.get(item.item_id, set())
        return picked


def _ranked(
    items: list[PoolItem], keys: dict[int, tuple[float, ...]], limit: int
) -> list[PoolItem]:
    if limit >= len(items):
        return sorted(items, key=lambda item: keys[item.item_id])
    return heapq.nsmallest(limit, items, key=lambda item: keys[item.item_id])


def _draw_area(
    area: AreaRule,
    pool: list[PoolItem],
    picker: _Picker,
    keys: dict[int, tuple[float, ...]],
    rng: random.Random,
) -> list[tuple[PoolItem, str]]:
    by_sub = {
        sub: [item for item in pool if _under(item.primary_code, sub)] for sub in area.subareas
    }
    available = [len(by_sub[sub]) for sub in area.subareas]
    empty = [sub for sub, count in zip(area.subareas, available, strict=True) if count == 0]
    if empty and area.items >= len(area.subareas):
        raise AssemblyError(area, f"no approved item in {', '.join(empty)}; every form needs one.")
    if sum(available) < area.items:
        raise AssemblyError(area, f"{sum(available)} approved items, a form needs {area.items}.")
    targets = _targets(area.items, available, rng)
    drawn: list[tuple[PoolItem, str]] = []
    short = 0
    # Scarce sub-areas choose first, before enemies of other picks can shut them out.
    plan = sorted(zip(area.subareas, targets, strict=True), key=lambda pair: len(by_sub[pair[0]]))
    for sub, target in plan:
        ranked = _ranked(by_sub[sub], keys, target * 4 + len(picker.banned) + 8)
        picked = picker.take(ranked, target)
        if len(picked) < target:
            picked += picker.take(
                sorted(by_sub[sub], key=lambda item: keys[item.item_id]), target - len(picked)
            )
        short += target - len(picked)
        drawn += [(item, sub) for item in picked]
    for sub in sorted(area.subareas, key=lambda s: sum(1 for _, d in drawn if d == s)):
        if not short:
            break
        extra = picker.take(sorted(by_sub[sub], key=lambda item: keys[item.item_id]), short)
        short -= len(extra)
        drawn += [(item, sub) for item in extra]
    if short:
        raise AssemblyError(
            area, f"enemy rules leave {area.items - short} usable items of the {area.items} needed."
        )
    missing = set(area.subareas) - {sub for _, sub in drawn}
    if missing and area.items >= len(area.subareas):
        raise AssemblyError(
            area, f"enemy rules leave no usable item in {', '.join(sorted(missing))}."
        )
    return drawn


def shuffle_options(item: PoolItem, rng: random.Random) -> tuple[str, ...]:
    """The order the candidate sees: the free options shuffled among their own places,
    fixed ones (a "None of the above", an ordered scale) where the author put them."""
    letters = list(LETTERS[: item.option_count])
    if item.type == "true_false" or not item.shuffle:
        return tuple(letters)
    free = [letter for letter in letters if letter not in item.fixed]
    rng.shuffle(free)
    moving = iter(free)
    return tuple(letter if letter in item.fixed else next(moving) for letter in letters)


def assemble(
    areas: Sequence[AreaRule],
    pool: Sequence[PoolItem],
    *,
    seed: int,
    enemies: dict[int, set[int]] | None = None,
    forms_so_far: int = 0,
    exposure_cap_percent: float = 100.0,
) -> Form:
    """A form meeting every area of the blueprint, or an :class:`AssemblyError`."""
    rng = random.Random(seed)  # noqa: S311  (a reproducible draw, not a secret)
    cap = exposure_cap_percent / 100
    pool = sorted(pool, key=lambda item: item.item_id)  # the seed alone decides the form
    keys = {item.item_id: _priority(item, forms_so_far, cap, rng.random()) for item in pool}
    picker = _Picker(enemies or {})
    chosen: list[tuple[PoolItem, str, str]] = []
    for area in areas:
        if not area.subareas:
            area = AreaRule(area.code, area.title, area.items, (area.code,), (area.title,))
        area_pool = [item for item in pool if _under(item.primary_code, area.code)]
        chosen += [
            (item, area.code, sub) for item, sub in _draw_area(area, area_pool, picker, keys, rng)
        ]
    rng.shuffle(chosen)
    return Form(
        [DrawnItem(item, area, sub, shuffle_options(item, rng)) for item, area, sub in chosen]
    )
