"""Drawing a candidate's form, at admission ahead of the start or at the start itself.

Drawing reads the pool, the enemies and the exposure of every item: the costly part of a
start. When a proctor admits a candidate the form is drawn then and kept as a
:class:`PreparedForm`, with its items' exposure counted and the questions the candidate
will see, so that when a whole room presses start together each start is a short write
and its answer reads nothing of the bank (``exam.services.short_start``). At the start the
kept form is checked again (the blueprint version is still the current one, every item
version still approved); one that no longer holds is let go, its exposure given back, and
the reason recorded, and the candidate is drawn for there and then as before.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core import audit, clock
from exam.models import ItemExposure, PreparedForm, Registration, RegistrationStatus
from exam.services.assembly import AssemblyError, assemble
from exam.services.pool import difficulty_goal, forms_so_far, load_pool, load_pretest_pool
from exam.services.pretest import seed_pretest
from exam.services.rules import area_rules
from exam.services.shown_content import SlotContent, slot_contents, stored
from item_bank.blueprints import current_version
from item_bank.models import ItemVersion

Slot = tuple[int, int, tuple[str, ...]]  # item id, item version id, option letters shown


@dataclass(frozen=True)
class Draw:
    """A form drawn for a registration, not yet an attempt."""

    slots: tuple[Slot, ...]
    seed: int
    version_id: int
    version_number: int
    time_limit_seconds: int
    # True when the form was drawn ahead: its exposure is counted already.
    counted: bool = False
    # Positions (1-based) of the unscored items on trial.
    pretest_positions: frozenset[int] = frozenset()

    @property
    def item_ids(self) -> list[int]:
        return [item_id for item_id, _, _ in self.slots]


def draw_form(session: Session, registration: Registration) -> Draw:
    """Draw a form to the sitting's current blueprint version; reads only."""
    sitting = registration.sitting
    version = current_version(session, sitting.blueprint_id)
    spec = version.spec
    framework_id = version.blueprint.framework_id
    seed = secrets.randbits(62)
    rules = area_rules(session, spec, framework_id)
    sampler = random.Random(seed)  # noqa: S311  (sampling, not secrecy)
    calibrated = difficulty_goal(session, sitting.blueprint_id, spec)
    run_id, goal = calibrated if calibrated else (None, None)
    pool, enemies = load_pool(
        session, framework_id, registration.candidate_id, rules, sampler, run_id
    )
    form = assemble(
        rules,
        pool,
        seed=seed,
        enemies=enemies,
        forms_so_far=forms_so_far(session, sitting.blueprint_id),
        exposure_cap_percent=spec.get("exposure_cap_percent", 100),
        shuffle_within_sets=spec.get("shuffle_within_sets", False),
        goal=goal,
    )
    slots = tuple(
        (drawn.item.item_id, drawn.item.version_id, tuple(drawn.option_order))
        for drawn in form.items
    )
    trial: frozenset[int] = frozenset()
    if spec.get("pretest_items"):
        trial_pool, trial_enemies = load_pretest_pool(session, sitting.blueprint_id)
        for item_id, others in trial_enemies.items():
            enemies[item_id] = enemies.get(item_id, set()) | others
        slots, trial = seed_pretest(slots, trial_pool, int(spec["pretest_items"]), enemies, sampler)
    return Draw(
        slots, seed, version.id, version.number, spec["time_limit_minutes"] * 60,
        pretest_positions=trial,
    )  # fmt: skip


@dataclass(frozen=True)
class DrawnAhead:
    """A form drawn at admission and its questions as the candidate will see them."""

    draw: Draw
    contents: list[SlotContent]

    @property
    def shown(self) -> list[dict[str, Any]]:
        return stored(self.contents)


def draw_ahead(session: Session, registration: Registration) -> DrawnAhead | str:
    """The form for a registration about to be admitted, or why none could be drawn
    (the bank cannot meet the blueprint for this candidate); reads only, so the draw
    holds no write lock."""
    try:
        drawn = draw_form(session, registration)
    except AssemblyError as error:
        return error.detail
    placed = [
        (position, version_id, order)
        for position, (_, version_id, order) in enumerate(drawn.slots, start=1)
    ]
    return DrawnAhead(drawn, slot_contents(session, placed))


def keep_drawn(
    session: Session,
    registration: Registration,
    ahead: DrawnAhead | str,
    rendered: tuple[str, str] | None = None,
) -> PreparedForm:
    """Keep what :func:`draw_ahead` gave, in the admission's transaction (not committed),
    with the questions ``rendered`` as the start will send them and the key check of their
    option ids."""
    now = clock.now()
    if isinstance(ahead, str):
        row = PreparedForm(registration_id=registration.id, drawn_at=now, problem=ahead)
    else:
        drawn = ahead.draw
        row = PreparedForm(
            registration_id=registration.id,
            blueprint_version_id=drawn.version_id,
            seed=drawn.seed,
            items=[
                [item_id, version_id, list(order)] for item_id, version_id, order in drawn.slots
            ],
            drawn_at=now,
            problem="",
            pretest_positions=sorted(drawn.pretest_positions),
            shown=ahead.shown,
            rendered=rendered[0] if rendered else None,
            rendered_key=rendered[1] if rendered else "",
        )
        count_exposure(session, drawn.item_ids, now, +1)
    session.add(row)
    return row


def prepared_for(session: Session, registration_id: int) -> PreparedForm | None:
    return session.scalars(
        select(PreparedForm).where(PreparedForm.registration_id == registration_id)
    ).one_or_none()


def prepared_by_registration(session: Session, sitting_id: int) -> dict[int, PreparedForm]:
    """The kept forms of a sitting's registrations, by registration id."""
    query = (
        select(PreparedForm)
        .join(Registration, Registration.id == PreparedForm.registration_id)
        .where(Registration.sitting_id == sitting_id)
    )
    return {row.registration_id: row for row in session.scalars(query)}


def kept_draw(session: Session, registration: Registration) -> tuple[Draw | None, str]:
    """At the start: the form drawn ahead if it still holds, else ``None`` and why not.

    Reads only. A form that no longer holds is let go by :func:`let_go` in the start's
    write transaction.
    """
    row = prepared_for(session, registration.id)
    if row is None:
        return None, "no form was drawn at admission"
    if not row.ready:
        return None, row.problem
    current = current_version(session, registration.sitting.blueprint_id)
    if current.id != row.blueprint_version_id:
        return None, (f"the blueprint changed to version {current.number} after the form was drawn")
    version_ids = [version_id for _, version_id, _ in row.items]
    approved = session.scalar(
        select(func.count())
        .select_from(ItemVersion)
        .where(ItemVersion.id.in_(version_ids), ItemVersion.status == "approved")
    )
    if approved != len(set(version_ids)):
        return None, "an item on the form was retired or replaced after the form was drawn"
    slots = tuple((item_id, version_id, tuple(order)) for item_id, version_id, order in row.items)
    spec = current.spec
    trial = frozenset(row.pretest_positions or ())
    return Draw(
        slots, row.seed, current.id, current.number, spec["time_limit_minutes"] * 60, True, trial
    ), ""


def let_go(session: Session, registration_id: int, why: str, used: bool) -> None:
    """Remove the registration's kept form in the start's (or a turn-away's) transaction:
    once it became the attempt (``used``), or given up, its exposure given back."""
    if used:  # it is the attempt's form now: nothing to give back or to explain
        session.execute(delete(PreparedForm).where(PreparedForm.registration_id == registration_id))
        return
    row = prepared_for(session, registration_id)
    if row is None:
        return
    if row.ready:
        count_exposure(session, [item_id for item_id, _, _ in row.items], clock.now(), -1)
    audit.record(
        session,
        actor_id=None,
        action="prepared_form.let_go",
        object_type="registration",
        object_id=registration_id,
        before={"items": len(row.items), "problem": row.problem},
        after={"why": why},
    )
    session.execute(delete(PreparedForm).where(PreparedForm.id == row.id))


def count_exposure(session: Session, item_ids: list[int], now: datetime, step: int) -> None:
    """One form more (``step`` 1) or, for a form given up, one less (``step`` -1) for each
    item, in one statement: an upsert, so forms drawn at once that share an item never
    collide."""
    if not item_ids:
        return
    if step < 0:
        session.execute(
            update(ItemExposure)
            .where(ItemExposure.item_id.in_(item_ids), ItemExposure.forms > 0)
            .values(forms=ItemExposure.forms - 1)
        )
        return
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = insert(ItemExposure)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["item_id"],
            set_={"forms": ItemExposure.forms + step, "last_used_at": now},
        ),
        [{"item_id": item_id, "forms": step, "last_used_at": now} for item_id in sorted(item_ids)],
    )


def admitted_without_form(session: Session, sitting_id: int) -> list[Registration]:
    """Admitted registrations of a sitting that hold no ready form: to draw for now."""
    ready = select(PreparedForm.registration_id).where(PreparedForm.problem == "")
    return list(
        session.scalars(
            select(Registration)
            .where(
                Registration.sitting_id == sitting_id,
                Registration.status == RegistrationStatus.ADMITTED,
                Registration.id.not_in(ready),
            )
            .order_by(Registration.id)
        )
    )
