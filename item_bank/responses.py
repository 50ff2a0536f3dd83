"""The item bank API's JSON bodies: each a model that the handler sends and the OpenAPI
document shows, built here from stored objects."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from core.api import Moment, ResponseModel
from core.auth import Actor
from core.paging import Page
from item_bank import services
from item_bank.blueprints import Coverage
from item_bank.models import (
    Blueprint,
    CognitiveLevel,
    Item,
    ItemStatus,
    ItemType,
    ItemVersion,
    ReviewAction,
)
from item_bank.review_checklist import review_checklist
from item_bank.schemas import BlueprintSpec, MediaRef
from item_bank.stimulus_responses import StimulusLinkOut
from item_bank.transfer import ImportSummary

# ---- items -------------------------------------------------------------------------


class ItemVersionSummary(ResponseModel):
    number: int
    status: ItemStatus


class ReviewCheckOut(ResponseModel):
    key: str
    title: str
    detail: str


class ItemOut(ResponseModel):
    """An item as the API sends it: one version's content, its workflow state and history."""

    id: int
    ref: str
    version: int
    status: ItemStatus
    revision: int = Field(description="Send it back with an edit (PUT).")
    content_revision: str = Field(
        description="The content's fingerprint: send it as revision to approve or return."
    )
    type: ItemType
    stem: str
    options: list[str]
    keys: list[str]
    choose: int | None
    shuffle: bool
    fixed: list[str]
    label: str
    rationale: str
    references: list[str]
    competencies: list[str]
    cognitive_level: CognitiveLevel
    enemies: list[str]
    stimulus: StimulusLinkOut | None = Field(
        default=None, description="The shared passage the item is on, if any."
    )
    media: list[MediaRef]
    versions: list[ItemVersionSummary]
    allowed_actions: list[ReviewAction]
    review_checks: list[ReviewCheckOut] = Field(
        default_factory=list,
        description="What a reviewer confirms before approving, when approving is open to "
        "the caller: send every key as checked with the approve action.",
    )


class ItemPage(ResponseModel):
    total: int
    page: int
    pages: int
    items: list[ItemOut]


def item_out(
    session: Session, actor: Actor, item: Item, version: ItemVersion | None = None
) -> ItemOut:
    version = version or item.head
    steps = [step.action for step in services.allowed_steps(actor, item)]
    checks = (
        review_checklist(session, version)
        if ReviewAction.APPROVE in steps and version.id == item.head.id
        else []
    )
    return ItemOut.model_validate(
        {
            "id": item.id,
            "ref": item.ref,
            "version": version.number,
            "status": version.status,
            "revision": item.revision,
            "content_revision": services.content_revision(version),
            **version.content(),
            "media": [medium.entry() for medium in version.media],
            "enemies": services.enemy_refs(session, item.id),
            "versions": [{"number": v.number, "status": v.status} for v in item.versions],
            "allowed_actions": steps,
            "review_checks": [vars(check) for check in checks],
        }
    )


def item_page(session: Session, actor: Actor, page: Page[ItemVersion]) -> ItemPage:
    return ItemPage.of(page, items=[item_out(session, actor, v.item, v) for v in page.rows])


# ---- the framework tree: parts > sections > areas > competencies ------------------


class FrameworkCompetency(ResponseModel):
    code: str
    kind: Literal["competency"]
    text: str
    expects: dict[str, str] | None = Field(
        default=None, description="What each proficiency level expects, by level code."
    )


class FrameworkLevel(ResponseModel):
    code: str
    title: str
    order: int


class _FrameworkGroup(ResponseModel):
    code: str
    title: str
    description: str | None = Field(default=None, description="Only when there is one.")


class FrameworkArea(_FrameworkGroup):
    kind: Literal["area"]
    children: list[FrameworkCompetency]


class FrameworkSection(_FrameworkGroup):
    kind: Literal["section"]
    children: list[FrameworkArea]


class FrameworkPart(_FrameworkGroup):
    kind: Literal["part"]
    children: list[FrameworkSection]


class FrameworkTree(ResponseModel):
    code: str
    title: str
    publisher: str
    version: str
    description: str
    levels: list[FrameworkLevel] | None = Field(
        default=None, description="Its proficiency levels, lowest first, when it has some."
    )
    parts: list[FrameworkPart]


# ---- import, blueprints and coverage -------------------------------------------------


class ImportRecordError(ResponseModel):
    record: int = Field(description="1-based position in the file")
    ref: str | None
    field: str
    message: str


class RefusedItemOut(ResponseModel):
    source: str = Field(description="The item's file in the package")
    ref: str = Field(description="The item's identifier")
    reason: str = Field(description="The interaction named, and why the bank cannot hold it")


class ImportItemOut(ResponseModel):
    ref: str
    outcome: str = Field(description='"new", "new version N" or "unchanged"')
    source: str | None = Field(description="The item's file in a package, else null")
    notes: list[str] = Field(
        description="What the import wrote otherwise than the source had it "
        '("<sup>2</sup> written as ²") or scored differently.'
    )


class ImportSummaryOut(ResponseModel):
    total: int = Field(description="Records read, the refused items among them")
    created: int
    new_versions: int
    unchanged: int
    dry_run: bool
    errors: list[ImportRecordError]
    refused: list[RefusedItemOut] = Field(
        description="Items of a QTI package left out because the bank has no type for their "
        "interaction; the package's other items are imported. Empty for JSON records."
    )
    skipped: list[str] = Field(
        description='Resources of a package that are not items ("assessmentTest test.xml").'
    )
    items: list[ImportItemOut] = Field(
        description="What the import did (or a dry run would do) with each item taken."
    )
    scenarios: list[str] = Field(
        description='The shared scenarios it makes ("new scenario S-1 (Title)").'
    )


def import_summary(summary: ImportSummary) -> ImportSummaryOut:
    return ImportSummaryOut.of(summary)


class BlueprintVersionOut(ResponseModel):
    number: int
    created_at: Moment


class BlueprintOut(ResponseModel):
    code: str
    version: int
    spec: BlueprintSpec
    versions: list[BlueprintVersionOut]


def blueprint_out(blueprint: Blueprint) -> BlueprintOut:
    return BlueprintOut.of(
        blueprint,
        version=blueprint.current.number,
        spec=blueprint.current.spec,
        versions=[BlueprintVersionOut.of(v) for v in blueprint.versions],
    )


class SubAreaCoverageOut(ResponseModel):
    code: str
    title: str
    approved_available: int
    needed_per_form: int
    short_by: int


class AreaCoverageOut(ResponseModel):
    code: str
    title: str
    needed_per_form: int
    approved_available: int
    distinct_forms: int
    advice: list[str]
    subareas: list[SubAreaCoverageOut]


class UncoveredCompetency(ResponseModel):
    code: str
    text: str


class CoverageOut(ResponseModel):
    blueprint: str
    version: int
    item_count: int
    distinct_forms: int
    areas: list[AreaCoverageOut]
    competencies_without_approved_items: list[UncoveredCompetency]


def coverage_out(coverage: Coverage) -> CoverageOut:
    return CoverageOut.of(
        coverage,
        distinct_forms=coverage.forms,
        areas=[
            AreaCoverageOut.of(
                area,
                needed_per_form=area.needed,
                approved_available=area.available,
                distinct_forms=area.forms,
                subareas=[
                    SubAreaCoverageOut.of(
                        sub, approved_available=sub.available, needed_per_form=sub.per_form
                    )
                    for sub in area.subareas
                ],
            )
            for area in coverage.areas
        ],
        competencies_without_approved_items=[
            UncoveredCompetency.of(node) for node in coverage.uncovered_competencies
        ],
    )


OPENAPI_MODELS: tuple[type[ResponseModel], ...] = (
    ItemOut,
    ItemPage,
    FrameworkTree,
    ImportSummaryOut,
    BlueprintOut,
    CoverageOut,
)


def framework_tree(tree: dict[str, Any]) -> FrameworkTree:
    """The tree ``frameworks.framework_tree`` reads (the framework page shows the same)."""
    return FrameworkTree.model_validate(tree)
