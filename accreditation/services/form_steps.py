"""The provider's application in steps: programme, trainers, one step per area of the
standard, evidence, declaration, then a summary before submitting. Each step saves only
its own fields into the draft (the summary's lines are ``completeness.summary``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from accreditation.models import Application
from accreditation.schemas import ApplicationContent
from accreditation.services.completeness import (
    AREA_PREFIX,
    AreaCoverage,
    StepKind,
    Summary,
    coverage,
)
from accreditation.services.drafts import save_draft
from core.auth import Actor
from core.errors import Problem

# The fields each kind of step owns in ``ApplicationContent`` (an area step owns the
# mapping rows of its own competencies).
STEP_FIELDS: dict[StepKind, tuple[str, ...]] = {
    StepKind.PROGRAMME: (
        "title",
        "description",
        "delivery_mode",
        "contact_hours",
        "learner_assessment",
    ),
    StepKind.TRAINERS: ("trainers",),
    StepKind.DECLARATION: ("declaration_accepted",),
}


@dataclass(frozen=True)
class FormStep:
    slug: str
    kind: StepKind
    title: str
    area: AreaCoverage | None = None

    @property
    def saves(self) -> bool:
        return self.kind in STEP_FIELDS or self.kind == StepKind.AREA


def form_steps(session: Session, application: Application) -> list[FormStep]:
    """The steps in the order the provider meets them."""
    areas = [
        FormStep(f"{AREA_PREFIX}{area.code}", StepKind.AREA, area.title, area)
        for area in coverage(session, application)
    ]
    return [
        FormStep(StepKind.PROGRAMME, StepKind.PROGRAMME, "The programme"),
        FormStep(StepKind.TRAINERS, StepKind.TRAINERS, "Trainers"),
        *areas,
        FormStep(StepKind.EVIDENCE, StepKind.EVIDENCE, "Evidence documents"),
        FormStep(StepKind.DECLARATION, StepKind.DECLARATION, "Declaration"),
        FormStep(StepKind.SUMMARY, StepKind.SUMMARY, "Check and submit"),
    ]


def find_step(steps: list[FormStep], slug: str) -> tuple[int, FormStep] | None:
    return next(((i, step) for i, step in enumerate(steps) if step.slug == slug), None)


def save_step(
    session: Session,
    actor: Actor,
    application: Application,
    step: FormStep,
    part: dict[str, Any],
    version: int,
) -> Application:
    """Write one step's fields over the draft, keeping every other step's answers.
    ``part`` is in the schema's shape; the whole content is validated again."""
    if not step.saves:
        raise Problem(409, "Nothing to save", f"The step {step.title!r} has no fields.")
    content = dict(application.content)
    if step.kind == StepKind.AREA:
        assert step.area is not None
        mapping = dict(content.get("mapping", {}))
        for leaf in step.area.leaves:
            mapping.pop(leaf.code, None)
        mapping.update(
            {code: entry for code, entry in part.get("mapping", {}).items() if any(entry.values())}
        )
        content["mapping"] = mapping
    else:
        content.update({name: part[name] for name in STEP_FIELDS[step.kind] if name in part})
    return save_draft(
        session, actor, application, ApplicationContent.model_validate(content), version
    )


def step_done(step: FormStep, lines: Summary) -> bool:
    """A step with nothing missing in it (the summary itself is never 'done')."""
    return step.kind != StepKind.SUMMARY and not any(m.step == step.slug for m in lines.missing)
