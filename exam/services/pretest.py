"""Pretest items seeded into a drawn form.

A blueprint may seed a few items on trial into every form: drawn from the items an exam
administrator put on pretest, the least exposed first, never an enemy of an item already
on the form or of each other, each at a random place among the scored ones, so nothing
in the form tells them apart. They are answered and analysed like the others, and never
counted (grading leaves them out) until an exam administrator promotes them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from exam.services.assembly import PoolItem, shuffle_options

Slot = tuple[int, int, tuple[str, ...]]  # item id, item version id, option order


def seed_pretest(
    slots: Sequence[Slot],
    pool: Sequence[PoolItem],
    wanted: int,
    enemies: dict[int, set[int]],
    rng: random.Random,
) -> tuple[tuple[Slot, ...], frozenset[int]]:
    """The form with up to ``wanted`` pretest items placed among ``slots``, and their
    positions (1-based). Fewer when the pool has fewer usable; never a failed draw."""
    on_form = {item_id for item_id, _, _ in slots}
    banned = set().union(*(enemies.get(item_id, set()) for item_id in on_form))
    chosen: list[PoolItem] = []
    ranked = sorted(pool, key=lambda item: (item.exposure, rng.random()))
    for item in ranked:
        if len(chosen) == wanted:
            break
        if item.item_id in on_form or item.item_id in banned:
            continue
        chosen.append(item)
        on_form.add(item.item_id)
        banned |= enemies.get(item.item_id, set())
    if not chosen:
        return tuple(slots), frozenset()
    total = len(slots) + len(chosen)
    places = sorted(rng.sample(range(total), len(chosen)))
    trial = iter(chosen)
    scored = iter(slots)
    seeded: list[Slot] = []
    for index in range(total):
        if index in places:
            item = next(trial)
            seeded.append((item.item_id, item.version_id, shuffle_options(item, rng)))
        else:
            seeded.append(next(scored))
    return tuple(seeded), frozenset(index + 1 for index in places)
