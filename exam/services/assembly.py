"""Drawing a form to a blueprint: pure rules over a pool of approved items.

The rules, in order of strength: exactly the blueprint's count per area, spread
over its sub-areas as evenly as the bank allows (at least one from each); never
two enemy items; items this candidate has not seen before, else the least recently
seen; items under the exposure cap before items over it; then the less exposed;
then chance. The items that share a stimulus form a set, drawn whole or not at all, each
member counting to its own area and sub-area; a set that does not fit leaves its place to
single items. Options are shuffled per candidate, except those the author fixed in place
(an item may also keep every option in order; true/false always does).
Everything random comes from one seed, so a form can be rebuilt exactly.
With a difficulty goal, the drawn form is then evened out (see ``form_difficulty``).
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import Problem
from exam.services.form_difficulty import DifficultyGoal, Evener

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
    set_id: int | None = None  # the stimulus it shares with the other items of its set
    set_position: int = 0  # its place in that set
    difficulty: float | None = None  # Rasch difficulty (logits) when calibrated


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
    # With a difficulty goal: the expected score at the cut, in items.
    expected_at_cut: float | None = None

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


Slot = tuple[str, str]  # (area code, sub-area code)


class _Picker:
    """Greedy choice by priority, skipping enemies of what is already on the form.

    An item of a set (items sharing one stimulus) comes with its whole set or not at all,
    and only when every member fits in what its own sub-area still needs.
    """

    def __init__(
        self,
        enemies: dict[int, set[int]],
        sets: dict[int, list[PoolItem]],
        slot_of: dict[int, Slot],
        remaining: dict[Slot, int],
    ) -> None:
        self.enemies = enemies
        self.sets = sets
        self.slot_of = slot_of
        self.remaining = remaining
        self.chosen: set[int] = set()
        self.banned: set[int] = set()
        self.drawn: list[tuple[PoolItem, Slot]] = []

    def count(self, slot: Slot) -> int:
        return sum(1 for _, drawn in self.drawn if drawn == slot)

    def _add(self, item: PoolItem, slot: Slot) -> None:
        self.drawn.append((item, slot))
        self.chosen.add(item.item_id)
        self.banned |= self.enemies.get(item.item_id, set())
        self.remaining[slot] = self.remaining.get(slot, 0) - 1

    def _fitting(self, set_id: int, slot: Slot, room: int) -> list[PoolItem] | None:
        members = self.sets[set_id]
        ids = {member.item_id for member in members}
        need: Counter[Slot] = Counter()
        for member in members:
            own = self.slot_of.get(member.item_id)
            if own is None or member.item_id in self.chosen | self.banned:
                return None
            if self.enemies.get(member.item_id, set()) & ids:
                return None
            need[own] += 1
        for own, count in need.items():
            if count > (room if own == slot else self.remaining.get(own, 0)):
                return None
        return members

    def take(self, ranked: Iterable[PoolItem], wanted: int, slot: Slot, sets: bool = True) -> int:
        """Up to ``wanted`` more items for ``slot``; how many it got. A set taken also fills
        its members' places in other sub-areas."""
        got = 0
        for item in ranked:
            if got == wanted:
                break
            if item.item_id in self.chosen or item.item_id in self.banned:
                continue
            if item.set_id is None:
                self._add(item, slot)
                got += 1
                continue
            members = self._fitting(item.set_id, slot, wanted - got) if sets else None
            for member in members or ():
                own = self.slot_of[member.item_id]
                self._add(member, own)
                got += own == slot
        return got


def _ranked(
    items: list[PoolItem], keys: dict[int, tuple[float, ...]], limit: int
) -> list[PoolItem]:
    if limit >= len(items):
        return sorted(items, key=lambda item: keys[item.item_id])
    return heapq.nsmallest(limit, items, key=lambda item: keys[item.item_id])


def _by_prefix(pool: list[PoolItem]) -> dict[str, list[PoolItem]]:
    """The pool's items under each code prefix ("CU", "CU.SK", ...), in pool order: one
    pass over the pool rather than one per area and sub-area."""
    under: dict[str, list[PoolItem]] = {}
    for item in pool:
        parts = item.primary_code.split(".")
        for depth in range(1, len(parts) + 1):
            under.setdefault(".".join(parts[:depth]), []).append(item)
    return under


def _by_sub(area: AreaRule, under: dict[str, list[PoolItem]]) -> dict[str, list[PoolItem]]:
    return {
        sub: [item for item in under.get(sub, []) if _under(item.primary_code, area.code)]
        for sub in area.subareas
    }


def _area_targets(
    area: AreaRule, by_sub: dict[str, list[PoolItem]], rng: random.Random
) -> list[int]:
    """Each sub-area's share of the area's count, or an error when the bank is short."""
    available = [len(by_sub[sub]) for sub in area.subareas]
    empty = [sub for sub, count in zip(area.subareas, available, strict=True) if count == 0]
    if empty and area.items >= len(area.subareas):
        raise AssemblyError(area, f"no approved item in {', '.join(empty)}; every form needs one.")
    if sum(available) < area.items:
        raise AssemblyError(area, f"{sum(available)} approved items, a form needs {area.items}.")
    return _targets(area.items, available, rng)


def _draw_area(
    area: AreaRule,
    by_sub: dict[str, list[PoolItem]],
    targets: list[int],
    picker: _Picker,
    keys: dict[int, tuple[float, ...]],
) -> None:
    short = 0
    # Scarce sub-areas choose first, before enemies of other picks can shut them out.
    plan = sorted(zip(area.subareas, targets, strict=True), key=lambda pair: len(by_sub[pair[0]]))
    for sub, _target in plan:
        slot = (area.code, sub)
        wanted = picker.remaining[slot]  # less what sets drawn elsewhere already put here
        ranked = _ranked(by_sub[sub], keys, wanted * 4 + len(picker.banned) + 8)
        got = picker.take(ranked, wanted, slot)
        if got < wanted:
            got += picker.take(
                sorted(by_sub[sub], key=lambda item: keys[item.item_id]), wanted - got, slot
            )
        short += wanted - got
    for sub in sorted(area.subareas, key=lambda s: picker.count((area.code, s))):
        if not short:
            break
        short -= picker.take(
            sorted(by_sub[sub], key=lambda item: keys[item.item_id]),
            short,
            (area.code, sub),
            sets=False,
        )
    if short:
        rules = "enemy rules and item sets" if picker.sets else "enemy rules"
        raise AssemblyError(
            area, f"{rules} leave {area.items - short} usable items of the {area.items} needed."
        )
    missing = {sub for sub in area.subareas if not picker.count((area.code, sub))}
    if missing and area.items >= len(area.subareas):
        raise AssemblyError(
            area, f"enemy rules leave no usable item in {', '.join(sorted(missing))}."
        )


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


def _sets(pool: Sequence[PoolItem]) -> dict[int, list[PoolItem]]:
    """Items sharing a stimulus, by set, each in its authored order."""
    sets: dict[int, list[PoolItem]] = {}
    for item in pool:
        if item.set_id is not None:
            sets.setdefault(item.set_id, []).append(item)
    return {
        set_id: sorted(members, key=lambda m: (m.set_position, m.item_id))
        for set_id, members in sets.items()
    }


def _units(drawn: list[tuple[PoolItem, str, str]]) -> list[list[tuple[PoolItem, str, str]]]:
    """The form's pieces as the candidate meets them: a lone item, or a whole set together
    in its authored order, standing where its first member was drawn."""
    units: list[list[tuple[PoolItem, str, str]]] = []
    by_set: dict[int, list[tuple[PoolItem, str, str]]] = {}
    for entry in drawn:
        set_id = entry[0].set_id
        if set_id is None:
            units.append([entry])
        elif set_id in by_set:
            by_set[set_id].append(entry)
        else:
            by_set[set_id] = [entry]
            units.append(by_set[set_id])
    for unit in by_set.values():
        unit.sort(key=lambda entry: (entry[0].set_position, entry[0].item_id))
    return units


def assemble(
    areas: Sequence[AreaRule],
    pool: Sequence[PoolItem],
    *,
    seed: int,
    enemies: dict[int, set[int]] | None = None,
    forms_so_far: int = 0,
    exposure_cap_percent: float = 100.0,
    shuffle_within_sets: bool = False,
    goal: DifficultyGoal | None = None,
) -> Form:
    """A form meeting every area of the blueprint, or an :class:`AssemblyError`.

    The items of a set stand together, in their authored order (or shuffled among
    themselves when the blueprint says so); the form's pieces are shuffled. With a
    ``goal``, the form is evened out to it as far as the bank allows.
    """
    rng = random.Random(seed)  # noqa: S311  (a reproducible draw, not a secret)
    cap = exposure_cap_percent / 100
    pool = sorted(pool, key=lambda item: item.item_id)  # the seed alone decides the form
    keys = {item.item_id: _priority(item, forms_so_far, cap, rng.random()) for item in pool}
    rules = [
        area if area.subareas else AreaRule(area.code, area.title, area.items, (area.code,))
        for area in areas
    ]
    under = _by_prefix(pool)
    subs = {area.code: _by_sub(area, under) for area in rules}
    targets = {area.code: _area_targets(area, subs[area.code], rng) for area in rules}
    slot_of: dict[int, Slot] = {}
    for area in reversed(rules):
        for sub, items in subs[area.code].items():
            slot_of.update((item.item_id, (area.code, sub)) for item in items)
    remaining = {
        (area.code, sub): target
        for area in rules
        for sub, target in zip(area.subareas, targets[area.code], strict=True)
    }
    picker = _Picker(enemies or {}, _sets(pool), slot_of, remaining)
    for area in rules:
        _draw_area(area, subs[area.code], targets[area.code], picker, keys)
    expected = Evener(picker, goal, keys, pool).even() if goal is not None else None
    units = _units([(item, area, sub) for item, (area, sub) in picker.drawn])
    rng.shuffle(units)
    if shuffle_within_sets:
        for unit in units:
            if len(unit) > 1:
                rng.shuffle(unit)
    return Form(
        [
            DrawnItem(item, area, sub, shuffle_options(item, rng))
            for unit in units
            for item, area, sub in unit
        ],
        expected,
    )
