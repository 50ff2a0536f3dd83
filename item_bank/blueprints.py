"""Blueprints (versioned test specifications) and how well the bank covers them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.api import field_errors
from core.auth import Actor
from core.errors import FieldError, Problem
from item_bank.frameworks import get_framework, level_codes, nodes_by_code, require_framework
from item_bank.models import (
    Blueprint,
    BlueprintVersion,
    FrameworkNode,
    Item,
    ItemStatus,
    ItemVersion,
    NodeKind,
    code_under,
)
from item_bank.schemas import BlueprintSpec, blueprint_errors

BLUEPRINTS_DIR = Path(__file__).resolve().parent / "blueprints"
DEFAULT_BLUEPRINT = "first-level"
BLUEPRINT_EDITORS = ("exam_admin",)


def parse_spec(data: Any) -> BlueprintSpec:
    try:
        spec = BlueprintSpec.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        raise Problem(
            422, "Invalid blueprint", "Some rules are missing or not valid.", errors=errors
        ) from exc
    errors = blueprint_errors(spec)
    if errors:
        raise Problem(422, "Invalid blueprint", " ".join(e.message for e in errors), errors=errors)
    return spec


def _check_areas_exist(session: Session, spec: BlueprintSpec) -> int:
    framework = get_framework(session, spec.framework)
    if framework is None:
        raise Problem(
            422,
            "Invalid blueprint",
            f"No framework {spec.framework}; load it first.",
            errors=[FieldError("framework", "Unknown framework.")],
        )
    if spec.framework_level is not None and spec.framework_level not in level_codes(framework):
        raise Problem(
            422,
            "Invalid blueprint",
            f"{spec.framework} defines no level {spec.framework_level}.",
            errors=[FieldError("framework_level", "Unknown level of the framework.")],
        )
    nodes = nodes_by_code(session, framework.id)
    missing = [area.code for area in spec.areas if area.code not in nodes]
    if missing:
        raise Problem(
            422,
            "Invalid blueprint",
            f"Unknown framework codes: {', '.join(missing)}.",
            errors=[FieldError("areas", f"Unknown code {code}.") for code in missing],
        )
    return framework.id


def get_blueprint(session: Session, code: str = DEFAULT_BLUEPRINT) -> Blueprint | None:
    return session.scalars(select(Blueprint).where(Blueprint.code == code)).one_or_none()


def require_blueprint(session: Session, code: str) -> Blueprint:
    blueprint = get_blueprint(session, code)
    if blueprint is None:
        raise Problem(404, "No such blueprint", f"There is no blueprint {code}.")
    return blueprint


def current_version(session: Session, blueprint_id: int) -> BlueprintVersion:
    """The rules blueprint ``blueprint_id`` is at now (its ``Blueprint.current``)."""
    blueprint = session.get(Blueprint, blueprint_id)
    if blueprint is None:
        raise Problem(404, "No such blueprint", f"There is no blueprint {blueprint_id}.")
    return blueprint.current


def save_blueprint(
    session: Session,
    code: str,
    spec: BlueprintSpec,
    *,
    actor_id: int | None,
    actor_label: str | None = None,
    note: str = "",
) -> BlueprintVersion:
    """Store ``spec`` as a new version of blueprint ``code`` (created if new); unchanged
    rules make no new version. Versions are never edited: attempts point at them."""
    framework_id = _check_areas_exist(session, spec)
    blueprint = get_blueprint(session, code)
    if blueprint is None:
        blueprint = Blueprint(code=code, framework_id=framework_id, created_at=clock.now())
        session.add(blueprint)
        session.flush()
    elif blueprint.framework_id != framework_id:
        raise Problem(
            409,
            "Framework is fixed",
            "A blueprint's framework never changes; make a new blueprint.",
        )
    rules = spec.model_dump(mode="json")
    previous = blueprint.current if blueprint.versions else None
    # Read through today's rules, so a field added since (at its default) is no change.
    if previous and BlueprintSpec.model_validate(previous.spec).model_dump(mode="json") == rules:
        return previous
    number = previous.number + 1 if previous else 1
    before = previous.spec if previous else None
    version = BlueprintVersion(
        blueprint=blueprint,
        number=number,
        spec=rules,
        created_at=clock.now(),
        created_by=actor_id,
        note=note.strip()[:2000],
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="blueprint.version_created",
        object_type="blueprint",
        object_id=code,
        before=_changed(before, rules, before) if before else None,
        after={"version": number, **(_changed(before, rules, rules) if before else rules)},
    )
    session.commit()
    return version


def may_revise(actor: Actor) -> bool:
    return actor.has_role(*BLUEPRINT_EDITORS)


def revise_blueprint(
    session: Session, actor: Actor, blueprint: Blueprint, changes: dict[str, Any], note: str
) -> BlueprintVersion:
    """A new version of ``blueprint``: its current rules with ``changes`` laid over them."""
    if not may_revise(actor):
        raise Problem(403, "Not allowed", "Only an exam administrator changes a blueprint.")
    spec = parse_spec({**blueprint.current.spec, **changes})
    return save_blueprint(session, blueprint.code, spec, actor_id=actor.id, note=note)


def _changed(
    old: dict[str, Any] | None, new: dict[str, Any], side: dict[str, Any]
) -> dict[str, Any]:
    old = old or {}
    return {key: side.get(key) for key in set(old) | set(new) if old.get(key) != new.get(key)}


def load_blueprint_file(session: Session, path: Path, actor_label: str = "cli") -> BlueprintVersion:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise Problem(400, "Unreadable blueprint file", f"{path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("code"), str):
        raise Problem(422, "Invalid blueprint file", 'Expected {"code": ..., "spec": {...}}.')
    spec = parse_spec(document.get("spec"))
    return save_blueprint(session, document["code"], spec, actor_id=None, actor_label=actor_label)


# ---- coverage ------------------------------------------------------------------------------


@dataclass
class SubAreaCoverage:
    code: str
    title: str
    available: int
    per_form: int  # the even share of the area's items a form wants from here

    @property
    def short_by(self) -> int:
        return max(0, self.per_form - self.available)


@dataclass
class AreaCoverage:
    code: str
    title: str
    needed: int
    available: int
    subareas: list[SubAreaCoverage]
    forms: int
    advice: list[str] = field(default_factory=list)


@dataclass
class Coverage:
    blueprint: str
    version: int
    item_count: int
    areas: list[AreaCoverage]
    forms: int
    uncovered_competencies: list[FrameworkNode]


def even_shares(total: int, parts: int) -> list[int]:
    """``total`` split over ``parts`` as evenly as possible, the larger shares first."""
    if parts == 0:
        return []
    base, extra = divmod(total, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def approved_counts(session: Session, framework_id: int) -> dict[str, int]:
    """Approved (live) items per primary competency code."""
    query = (
        select(ItemVersion.primary_code, func.count())
        .join(Item, Item.id == ItemVersion.item_id)
        .where(ItemVersion.status == ItemStatus.APPROVED, Item.framework_id == framework_id)
        .group_by(ItemVersion.primary_code)
    )
    return dict(session.execute(query).all())


def coverage(session: Session, version: BlueprintVersion) -> Coverage:
    """For each area and sub-area: approved items available vs needed per form, how many
    forms the bank gives without reusing an item, and what to write to close the gaps."""
    spec = BlueprintSpec.model_validate(version.spec)
    framework = require_framework(session, spec.framework)
    nodes = sorted(nodes_by_code(session, framework.id).values(), key=lambda n: n.position)
    counts = approved_counts(session, framework.id)
    areas = [_area_coverage(area, nodes, counts) for area in spec.areas]
    uncovered = [n for n in nodes if n.kind == NodeKind.COMPETENCY and counts.get(n.code, 0) == 0]
    return Coverage(
        blueprint=version.blueprint.code,
        version=version.number,
        item_count=spec.item_count,
        areas=areas,
        forms=min((a.forms for a in areas), default=0),
        uncovered_competencies=uncovered,
    )


def _area_coverage(area: Any, nodes: list[FrameworkNode], counts: dict[str, int]) -> AreaCoverage:
    area_node = next((n for n in nodes if n.code == area.code), None)
    if area_node is None:
        return AreaCoverage(
            code=area.code,
            title=area.title,
            needed=area.items,
            available=0,
            subareas=[],
            forms=0,
            advice=[f"{area.code} is no longer in the framework; edit the blueprint."],
        )
    children = [n for n in nodes if n.parent_id == area_node.id]
    shares = even_shares(area.items, len(children))
    available = sum(count for code, count in counts.items() if code_under(code, area.code))
    subareas = [
        SubAreaCoverage(
            code=child.code,
            title=child.label,
            per_form=share,
            available=sum(c for code, c in counts.items() if code_under(code, child.code)),
        )
        for child, share in zip(children, shares, strict=True)
    ]
    forms = available // area.items
    if subareas:
        # Every form takes at least one item from each sub-area.
        forms = min(forms, min(sub.available for sub in subareas))
    return AreaCoverage(
        code=area.code,
        title=area.title,
        needed=area.items,
        available=available,
        subareas=subareas,
        forms=forms,
        advice=_advice(area, available, subareas),
    )


def _advice(area: Any, available: int, subareas: list[SubAreaCoverage]) -> list[str]:
    advice = []
    if available < area.items:
        advice.append(
            f"No form can be assembled: {area.title} has {available} approved items and a form "
            f"needs {area.items}. Approve at least {area.items - available} more."
        )
    for sub in subareas:
        if sub.available == 0:
            advice.append(f"{sub.title} ({sub.code}) has no approved item; every form needs one.")
        elif sub.short_by:
            advice.append(
                f"{sub.title} ({sub.code}): {sub.available} approved, a form wants {sub.per_form}; "
                f"write and approve {sub.short_by} more to keep forms evenly spread."
            )
    return advice
