"""Item sets on a shared stimulus: drawn whole or not at all, together and in order, each
item counted to its own area; the passage beside its questions, as it was drawn."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import select

from accounts.models import User
from core.db import get_db
from exam.models import ItemExposure
from exam.services.assembly import AreaRule, AssemblyError, Form, PoolItem, assemble
from item_bank import frameworks, transfer
from item_bank.cli import SCENARIO_DIR
from item_bank.models import Item, ItemStatus, Stimulus
from item_bank.schemas import StimulusContent
from item_bank.services import stimuli
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld, form_slots, sit

AREAS = [
    AreaRule("A0", "Area 0", 4, ("A0.S0", "A0.S1")),
    AreaRule("A1", "Area 1", 2, ("A1.S0",)),
]


def _pool(set_codes: list[str], singles: dict[str, int]) -> list[PoolItem]:
    """Set 7's members on ``set_codes`` (in set order), and ``singles`` per sub-area."""
    pool = [
        PoolItem(100 + n, 1000 + n, f"{code}.01", 4, set_id=7, set_position=n + 1)
        for n, code in enumerate(set_codes)
    ]
    for code, count in singles.items():
        for _ in range(count):
            pool.append(PoolItem(len(pool) + 1, len(pool) + 1, f"{code}.02", 4))
    return pool


def _members(form: Form) -> list[int]:
    return [d.item.item_id for d in form.items if d.item.set_id == 7]


def _meets(form: Form) -> None:
    assert Counter(d.area for d in form.items) == {"A0": 4, "A1": 2}


def test_a_set_is_drawn_whole_together_in_order_each_item_counting_to_its_own_area() -> None:
    pool = _pool(["A0.S0", "A1.S0", "A0.S1"], {"A0.S0": 4, "A0.S1": 4, "A1.S0": 3})
    drawn = 0
    for seed in range(150):
        form = assemble(AREAS, pool, seed=seed)
        _meets(form)
        members = _members(form)
        assert members in ([], [100, 101, 102]), "a set is drawn whole or not at all"
        if members:
            drawn += 1
            start = form.item_ids.index(100)
            assert form.item_ids[start : start + 3] == [100, 101, 102], "together, in order"
            areas = {d.item.item_id: d.area for d in form.items}
            assert (areas[100], areas[101], areas[102]) == ("A0", "A1", "A0")
        assert assemble(AREAS, pool, seed=seed).items == form.items, "the seed rebuilds it"
    assert 0 < drawn < 150


def test_the_blueprint_may_shuffle_a_set_among_itself_and_keeps_it_together() -> None:
    pool = _pool(["A0.S0", "A0.S1", "A0.S1"], {"A0.S0": 1, "A0.S1": 1, "A1.S0": 2})
    orders = set()
    for seed in range(60):
        form = assemble(AREAS, pool, seed=seed, shuffle_within_sets=True)
        _meets(form)
        members = _members(form)
        if members:
            start = form.item_ids.index(members[0])
            assert sorted(form.item_ids[start : start + 3]) == [100, 101, 102]
            orders.add(tuple(members))
    assert len(orders) > 1


def test_a_set_that_does_not_fit_leaves_its_places_to_single_items() -> None:
    # Area 1 takes 2 items; this set would put 3 there.
    pool = _pool(["A1.S0", "A1.S0", "A1.S0"], {"A0.S0": 2, "A0.S1": 2, "A1.S0": 2})
    for seed in range(40):
        form = assemble(AREAS, pool, seed=seed)
        _meets(form)
        assert _members(form) == []


def test_a_blueprint_only_a_set_too_large_could_feed_fails_with_a_clear_error() -> None:
    pool = _pool(["A1.S0", "A1.S0", "A1.S0"], {"A0.S0": 2, "A0.S1": 2})
    with pytest.raises(AssemblyError) as error:
        assemble(AREAS, pool, seed=1)
    assert error.value.extra["area"] == "A1"
    assert "item sets leave 0 usable items of the 2 needed" in error.value.detail


# ---- delivery ------------------------------------------------------------------------------


def _scenario_first(app: Flask) -> list[int]:
    """The demo scenario's three items, approved, with every other item used on many forms,
    so that the draw reaches for the scenario first; their ids in set order."""
    records = [
        r for path in sorted(SCENARIO_DIR.glob("*.json")) for r in json.loads(path.read_text())
    ]
    with get_db(app).write_sessions() as session:
        framework = frameworks.require_framework(session, frameworks.DEFAULT_FRAMEWORK)
        transfer.import_items(
            session,
            framework,
            copy.deepcopy(records),
            status=ItemStatus.APPROVED,
            actor_id=None,
            actor_label="test",
        )
        refs = [r["ref"] for r in records]
        ids = {item.ref: item.id for item in session.scalars(select(Item))}
        for ref, item_id in ids.items():
            if ref not in refs:
                session.add(ItemExposure(item_id=item_id, forms=5))
        session.commit()
    return [ids[ref] for ref in refs]


def test_the_passage_stands_beside_its_questions_as_drawn_and_reveals_no_key(
    app: Flask, world: ExamWorld
) -> None:
    scenario = _scenario_first(app)
    attempt = sit(world)
    slots = form_slots(app, attempt["id"])
    ids = [slot.item_id for slot in slots]
    start = ids.index(scenario[0])
    assert ids[start : start + 3] == scenario
    positions = [start + 1, start + 2, start + 3]
    api = [q for q in attempt["questions"] if q["stimulus"]]
    assert [q["position"] for q in api] == positions
    assert (
        api[0]["stimulus"]["first"] == positions[0] and api[0]["stimulus"]["last"] == positions[2]
    )
    client = app.test_client()
    sign_in(client, world.people["ana"]["user"].email)
    page = client.get(f"/exams/attempts/{attempt['id']}/q/{positions[1]}").get_data(as_text=True)
    assert "Northgate Dental Group: six months before renewal" in page
    assert f"Scenario for questions {positions[0]} to {positions[2]}" in page
    assert "<li>Seats paid for: 120 throughout.</li>" in page
    # The page holds the whole form (other questions' options name a consumption gap too):
    # the rationale's own sentence is what must not be there.
    assert "strongest leading indicator of churn in the exhibit" not in page
    alone = 1 if start else 4
    whole = client.get(f"/exams/attempts/{attempt['id']}/q/{alone}").get_data(as_text=True)
    slide = whole.split(f'data-slide="{alone}"', 1)[1].split("data-slide=", 1)[0]
    assert "data-stimulus" not in slide  # the page holds the whole form; this one has none
    # Staff change the passage: the attempt already drawn shows what it was drawn with.
    with get_db(app).write_sessions() as session:
        writer = session.get(User, world.id("admin"))
        stimulus = session.scalars(select(Stimulus)).one()
        content = StimulusContent(title="Changed", body="A different passage.", revision=1)
        stimuli.update_stimulus(session, writer, stimulus, content)
        assert stimulus.current.number == 2
    again = client.get(f"/exams/attempts/{attempt['id']}/q/{positions[0]}").get_data(as_text=True)
    assert "Northgate Dental Group" in again and "A different passage." not in again
