"""Items on trial: an exam administrator puts an approved item on pretest for a blueprint,
reads how it did (classical statistics and, once calibrated, its Rasch difficulty) and
promotes it to scored or drops it. Every decision is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from exam.psychometrics.models import ItemCalibration, PretestItem, PretestStatus
from exam.services.pool import latest_bank_calibration
from exam.services.statistics import ItemStats, exam_statistics
from item_bank.blueprints import require_blueprint
from item_bank.models import Item, ItemStatus, ItemVersion

DECIDERS = ("exam_admin",)
DECISIONS = {"promote": PretestStatus.PROMOTED, "drop": PretestStatus.DROPPED}


@dataclass(frozen=True)
class PretestRow:
    item_id: int
    ref: str
    code: str
    status: str
    added_at: str
    stats: ItemStats | None  # None until someone has answered it
    difficulty: float | None  # Rasch logits in the bank's latest calibration
    note: str


def _require_decider(actor: Actor) -> None:
    if not actor.has_role(*DECIDERS):
        raise Problem(403, "Not allowed", "Only an exam administrator decides on pretest items.")


def put_on_pretest(
    session: Session, actor: Actor, blueprint_code: str, ref: str, note: str = ""
) -> PretestItem:
    """Put the approved item ``ref`` on trial for the blueprint: from now on it is seeded
    unscored into forms (when the blueprint asks for pretest items) and drawn scored no more."""
    _require_decider(actor)
    blueprint = require_blueprint(session, blueprint_code[:60])
    item = session.scalars(
        select(Item).where(
            Item.ref == ref.strip()[:80], Item.framework_id == blueprint.framework_id
        )
    ).first()
    if item is None:
        raise Problem(
            422,
            "No such item",
            f"There is no item {ref.strip()!r} in this bank.",
            errors=[FieldError("ref", "No item with this reference.")],
        )
    version = item.live
    if version is None:
        raise Problem(
            422,
            "Not approved",
            f"{item.ref} has no approved version to try out.",
            errors=[FieldError("ref", "Only an approved item can be pretested.")],
        )
    if version.stimulus_version_id is not None:
        raise Problem(
            422,
            "Part of a scenario",
            f"{item.ref} belongs to a scenario's set; sets are not pretested item by item.",
            errors=[FieldError("ref", "An item of a scenario's set.")],
        )
    if session.get(PretestItem, item.id) is not None:
        raise Problem(409, "Already decided", f"{item.ref} is or was on pretest already.")
    row = PretestItem(
        item_id=item.id,
        blueprint_id=blueprint.id,
        status=PretestStatus.PRETEST,
        added_by=actor.id,
        added_at=clock.now(),
        note=note.strip()[:2000],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="pretest.added",
        object_type="item",
        object_id=item.id,
        after={"blueprint": blueprint.code, "note": row.note},
    )
    session.commit()
    return row


def decide(session: Session, actor: Actor, item_id: int, decision: str, note: str) -> PretestItem:
    """Promote a pretest item to scored, or drop it; a reason is required."""
    _require_decider(actor)
    status = DECISIONS.get(decision)
    if status is None:
        raise Problem(
            422,
            "Unknown decision",
            "Promote or drop.",
            errors=[FieldError("decision", "Choose promote or drop.")],
        )
    if not note.strip():
        raise Problem(
            422,
            "A reason is needed",
            "Say why, for the record.",
            errors=[FieldError("note", "Say why, for the record.")],
        )
    row = session.get(PretestItem, item_id, with_for_update=True)
    if row is None:
        raise Problem(404, "Not on pretest", "This item is not on pretest.")
    if row.status != PretestStatus.PRETEST:
        raise Problem(409, "Already decided", f"This item was {row.status} already.")
    before = {"status": row.status}
    row.status, row.decided_by, row.decided_at = status, actor.id, clock.now()
    row.note = note.strip()[:2000]
    audit.record(
        session,
        actor_id=actor.id,
        action=f"pretest.{status}",
        object_type="item",
        object_id=item_id,
        before=before,
        after={"status": status, "note": row.note},
    )
    session.commit()
    return row


def pretest_rows(session: Session, blueprint_code: str) -> list[PretestRow]:
    """The blueprint's pretest items, on trial first, with how each has done so far."""
    blueprint = require_blueprint(session, blueprint_code[:60])
    rows = session.execute(
        select(PretestItem, Item.ref, ItemVersion.primary_code, ItemVersion.id)
        .join(Item, Item.id == PretestItem.item_id)
        .join(
            ItemVersion,
            (ItemVersion.item_id == Item.id) & (ItemVersion.status == ItemStatus.APPROVED),
        )
        .where(PretestItem.blueprint_id == blueprint.id)
    ).all()
    stats = {s.item_id: s for s in exam_statistics(session, blueprint.code).items if s.pretest}
    latest = latest_bank_calibration(session, blueprint.id)
    difficulty: dict[int, float] = {}
    if latest is not None and rows:
        difficulty = dict(
            session.execute(
                select(ItemCalibration.item_version_id, ItemCalibration.difficulty).where(
                    ItemCalibration.run_id == latest[0],
                    ItemCalibration.item_version_id.in_([version_id for *_, version_id in rows]),
                )
            ).all()
        )
    found = [
        PretestRow(
            row.item_id,
            ref,
            code,
            row.status,
            clock.format_moment(row.added_at),
            stats.get(row.item_id),
            difficulty.get(version_id),
            row.note,
        )
        for row, ref, code, version_id in rows
    ]
    return sorted(found, key=lambda r: (r.status != PretestStatus.PRETEST, r.ref))


def pretest_items_wanted(session: Session, blueprint_code: str) -> int:
    """How many pretest items the blueprint seeds into each form."""
    blueprint = require_blueprint(session, blueprint_code[:60])
    return int(blueprint.current.spec.get("pretest_items", 0))
