"""Forms of equal difficulty: a drawn form evened out to a goal.

Single items are swapped for others of the same sub-area, never breaking an enemy rule or a
set, and never taking in an item the candidate has seen or one over the exposure cap in
place of one that is neither, until a candidate at the cut measure would expect the goal's
score (within its tolerance) and the form carries no more uncalibrated items than the goal
allows. A bank that cannot reach the goal gives the closest form it can.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exam.services.assembly import PoolItem, Slot, _Picker


@dataclass(frozen=True)
class DifficultyGoal:
    """Forms of equal difficulty: a candidate exactly at the cut measure is expected to
    score ``target`` items on every form, give or take ``tolerance``."""

    cut_measure: float
    target: float
    tolerance: float
    max_uncalibrated: int
    # The chance an uncalibrated item is answered right at the cut: the pass share, so an
    # unknown item counts as neither easy nor hard.
    neutral: float

    def chance(self, item: PoolItem) -> float:
        if item.difficulty is None:
            return self.neutral
        return 1.0 / (1.0 + math.exp(item.difficulty - self.cut_measure))

    def expected(self, items: Iterable[PoolItem]) -> float:
        return sum(self.chance(item) for item in items)


def _tier(keys: dict[int, tuple[float, ...]], item: PoolItem) -> tuple[float, float]:
    """Seen by this candidate before, then over the exposure cap: the two rules a swap for
    difficulty may never make worse."""
    key = keys[item.item_id]
    return key[0], key[2]


# How many near-enough items a swap looks through before it gives up on a place.
SWAP_SCAN = 200


class Evener:
    """Swaps single items of a drawn form for others of their own sub-area until a
    candidate at the cut would expect the goal's score on it (see the module docstring)."""

    def __init__(
        self,
        picker: _Picker,
        goal: DifficultyGoal,
        keys: dict[int, tuple[float, ...]],
        pool: Sequence[PoolItem],
    ) -> None:
        self.picker, self.goal, self.keys = picker, goal, keys
        self.held: Counter[int] = Counter(
            enemy for item, _ in picker.drawn for enemy in picker.enemies.get(item.item_id, ())
        )
        by_slot: dict[Slot, list[PoolItem]] = {}
        for item in pool:
            slot = picker.slot_of.get(item.item_id)
            if slot is not None and item.set_id is None:
                by_slot.setdefault(slot, []).append(item)
        self.choices = {
            slot: sorted(items, key=lambda i: (goal.chance(i), keys[i.item_id]))
            for slot, items in by_slot.items()
        }
        self.chances = {
            slot: [goal.chance(i) for i in items] for slot, items in self.choices.items()
        }
        self.expected = goal.expected(item for item, _ in picker.drawn)
        self.uncalibrated = sum(item.difficulty is None for item, _ in picker.drawn)

    def _allowed(
        self, out: PoolItem, into: PoolItem, calibrated_only: bool, any_tier: bool
    ) -> bool:
        if into.item_id in self.picker.chosen:
            return False
        if into.difficulty is None and (
            calibrated_only
            or (out.difficulty is not None and self.uncalibrated >= self.goal.max_uncalibrated)
        ):
            return False
        shared = into.item_id in self.picker.enemies.get(out.item_id, ())
        if self.held[into.item_id] - shared > 0:
            return False
        return any_tier or _tier(self.keys, into) <= _tier(self.keys, out)

    def _nearest(
        self, index: int, wanted: float, calibrated_only: bool = False, any_tier: bool = False
    ) -> PoolItem | None:
        """The allowed item of the same place whose chance at the cut is nearest ``wanted``.
        ``any_tier`` lets a seen or over-cap item in: the share of uncalibrated items is a
        hard rule, the order of exposure a preference."""
        out, slot = self.picker.drawn[index]
        items, chances = self.choices.get(slot, []), self.chances.get(slot, [])
        high = bisect.bisect_left(chances, wanted)
        low = high - 1
        for _ in range(SWAP_SCAN):
            take_high = high < len(items) and (
                low < 0 or chances[high] - wanted <= wanted - chances[low]
            )
            if not take_high and low < 0:
                return None
            if take_high:
                candidate, high = items[high], high + 1
            else:
                candidate, low = items[low], low - 1
            if self._allowed(out, candidate, calibrated_only, any_tier):
                return candidate
        return None

    def _swap(self, index: int, into: PoolItem) -> None:
        out, slot = self.picker.drawn[index]
        self.picker.drawn[index] = (into, slot)
        self.picker.chosen.discard(out.item_id)
        self.picker.chosen.add(into.item_id)
        self.held.subtract(self.picker.enemies.get(out.item_id, ()))
        self.held.update(self.picker.enemies.get(into.item_id, ()))
        self.expected += self.goal.chance(into) - self.goal.chance(out)
        self.uncalibrated += (into.difficulty is None) - (out.difficulty is None)

    def even(self) -> float:
        """Even the form out; its expected score at the cut."""
        goal, drawn = self.goal, self.picker.drawn
        for index, (item, _) in enumerate(drawn):
            if self.uncalibrated <= goal.max_uncalibrated:
                break
            if item.difficulty is None and item.set_id is None:
                wanted = goal.chance(item) + goal.target - self.expected
                into = self._nearest(index, wanted, calibrated_only=True) or self._nearest(
                    index, wanted, calibrated_only=True, any_tier=True
                )
                if into is not None:
                    self._swap(index, into)
        for _ in range(2 * len(drawn)):
            gap = goal.target - self.expected
            if abs(gap) <= goal.tolerance:
                break
            best: tuple[float, int, PoolItem] | None = None
            for index, (item, _) in enumerate(drawn):
                if item.set_id is not None:
                    continue
                into = self._nearest(index, goal.chance(item) + gap)
                if into is None:
                    continue
                left = abs(gap - goal.chance(into) + goal.chance(item))
                if left < abs(gap) - 1e-9 and (best is None or left < best[0]):
                    best = (left, index, into)
            if best is None:
                break
            self._swap(best[1], best[2])
        return self.expected
