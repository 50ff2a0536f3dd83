"""What a reviewer checks before approving an item, with the facts each check is about
drawn from the item and the blueprints that will draw it onto forms."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import FieldError, Problem
from item_bank.models import Blueprint, CognitiveLevel, ItemType, ItemVersion, code_under

LEVELS: dict[str, str] = {
    CognitiveLevel.RECALL: "remembering a fact, a term or a definition",
    CognitiveLevel.APPLICATION: "using what one knows in the situation the stem describes",
    CognitiveLevel.ANALYSIS: "weighing a situation to choose the best of several courses of action",
}


@dataclass(frozen=True)
class Check:
    key: str
    title: str
    detail: str


def _areas(session: Session, version: ItemVersion) -> list[str]:
    """Where the blueprints of the item's framework place its primary competency."""
    framework_id = version.item.framework_id
    found = []
    for blueprint in session.scalars(
        select(Blueprint).where(Blueprint.framework_id == framework_id).order_by(Blueprint.code)
    ):
        spec = blueprint.current.spec
        for area in spec.get("areas", []):
            if code_under(version.primary_code, area["code"]):
                found.append(
                    f"blueprint {blueprint.code} draws {area['items']} of its "
                    f"{spec['item_count']} items from {area['code']}, {area['title']}"
                )
    return found


def review_checklist(session: Session, version: ItemVersion) -> list[Check]:
    primary = version.competency_links[0].node if version.competency_links else None
    statement = (primary.title or primary.text) if primary else ""
    competency = f"{version.primary_code} ({statement})" if statement else version.primary_code
    areas = _areas(session, version)
    where = f"; {'; '.join(areas)}" if areas else "; no blueprint draws on it yet"
    level = version.cognitive_level
    checks = [
        Check(
            "competency",
            "Competency",
            f"It measures {competency}, and not a neighbouring competency{where}.",
        ),
        Check(
            "cognitive-level",
            "Cognitive level",
            f"It asks for {level}: {LEVELS.get(level, level)}.",
        ),
    ]
    if version.type == ItemType.TRUE_FALSE:
        checks.append(
            Check(
                "one-answer",
                "One answer",
                "The statement is plainly true or plainly false to an expert.",
            )
        )
    elif version.type == ItemType.MULTIPLE_RESPONSE:
        checks.append(
            Check(
                "right-answers",
                "The right answers",
                f"Exactly the keyed options ({', '.join(version.keys)}) are right, "
                "and the stem says how many to choose.",
            )
        )
    else:
        checks.append(
            Check(
                "one-best-answer",
                "One best answer",
                f"Option {', '.join(version.keys)} is the one best answer, and an expert "
                "would not argue for another.",
            )
        )
    if version.type != ItemType.TRUE_FALSE:
        checks.append(
            Check(
                "distractors",
                "Plausible distractors",
                "Each wrong option tempts someone who lacks the competency, and the "
                "rationale says why it is wrong.",
            )
        )
    checks.append(
        Check(
            "no-cueing",
            "No cueing",
            "Nothing gives the answer away: the key is not longer or more precise than the "
            "rest, repeats no word of the stem, agrees in grammar like the others, and no "
            "other item on a form answers this one.",
        )
    )
    return checks


def require_confirmed(
    session: Session, version: ItemVersion, checked: Collection[str]
) -> list[str]:
    """The keys of the version's checklist, all of which the reviewer must have confirmed
    to approve it; 422 naming the unconfirmed points otherwise."""
    checks = review_checklist(session, version)
    missing = [check.title for check in checks if check.key not in checked]
    if missing:
        raise Problem(
            422,
            "Review checklist not confirmed",
            f"Confirm every point of the checklist before approving: {', '.join(missing)}. "
            "If a point does not hold, return the item with a comment naming it.",
            errors=[FieldError("checked", f"Not confirmed: {', '.join(missing)}.")],
        )
    return [check.key for check in checks]
