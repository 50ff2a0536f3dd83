"""The item exchange record (API, JSON and CSV import/export) and the blueprint rules.

Field rules are documented in ``item_bank/ITEM_FORMAT.md``.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.config import MAX_TIME_LIMIT_MINUTES
from core.errors import FieldError
from item_bank.models import CognitiveLevel, ItemType, code_under

LETTERS = string.ascii_uppercase[:6]
TRUE_FALSE_OPTIONS = ["True", "False"]
# ``choose`` of a multiple response item the candidate answers with as many as they like.
ANY_NUMBER = 0

Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,60}$")]
OptionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Reference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=r"^[^\r\n]*$"),
]
Letter = Literal["A", "B", "C", "D", "E", "F"]
# The ItemStatus values an exchange record may carry (never superseded), spelt as plain
# literals so that a validation error quotes them plainly; a test keeps them in step.
ExchangeStatus = Literal["draft", "in_review", "approved", "retired"]


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class MediaRef(BaseModel):
    """A medium the item shows after its stem: a stored file and the words that stand for
    it. An image needs its alt text; audio its transcript or a description."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sha256: Sha256 = Field(description="The stored file (POST /api/v1/media gives it).")
    alt: str = Field(default="", max_length=1000, description="An image's alt text.")
    transcript: str = Field(
        default="", max_length=20000, description="Audio's transcript or description."
    )


StimulusTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
StimulusBody = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)
]


class StimulusContent(BaseModel):
    """A shared passage as its author writes it; the body of POST/PUT /api/v1/stimuli."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ref: Ref | None = None
    title: StimulusTitle
    body: StimulusBody = Field(description="The same Markdown subset as an item's stem.")
    media: list[MediaRef] = Field(
        default_factory=list,
        max_length=10,
        description="Exhibits shown after the passage to every item on it: an image with "
        "its alt text, audio with its transcript. A change makes a new version.",
    )
    revision: int | None = Field(
        default=None, description="PUT: the stimulus's revision you edited (409 if it moved on)."
    )


class StimulusLink(BaseModel):
    """The passage an item is written on, and the item's place in that passage's set.

    With ``title`` and ``body`` (as an export writes it) the import finds the version with
    that text, or makes it; without them the stimulus's current version is meant.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ref: Ref
    position: int | None = Field(default=None, ge=1, le=50)
    title: StimulusTitle | None = None
    body: StimulusBody | None = None
    media: list[MediaRef] | None = Field(
        default=None,
        max_length=10,
        description="With title and body: the version's exhibits (none when left out).",
    )

    def media_entries(self) -> list[dict[str, str]]:
        return [medium.model_dump() for medium in self.media or []]


class ItemContent(BaseModel):
    """What an author writes; the body of POST/PUT /api/v1/items."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ref: Ref | None = None
    type: ItemType
    stem: str = Field(min_length=1, max_length=4000)
    options: list[OptionText] = Field(min_length=2, max_length=6)
    keys: list[Letter] = Field(min_length=1, max_length=5)
    choose: int | None = Field(
        default=None,
        ge=0,
        le=5,
        description="Multiple response: how many to pick, equal to the keys; 0 for any number.",
    )
    shuffle: bool = Field(default=True, description="Shuffle the options for each candidate.")
    fixed: list[Letter] = Field(
        default_factory=list,
        max_length=6,
        description="Options that keep their place when the others are shuffled.",
    )
    label: str = Field(default="", max_length=256, description="A name for staff only.")
    rationale: str = Field(min_length=1, max_length=4000)
    references: list[Reference] = Field(default_factory=list, max_length=10)
    competencies: list[Code] = Field(min_length=1, max_length=5)
    cognitive_level: CognitiveLevel
    enemies: list[Ref] = Field(default_factory=list, max_length=50)
    stimulus: StimulusLink | None = Field(
        default=None, description="The shared passage (case study, exhibit) the item is on."
    )
    media: list[MediaRef] = Field(default_factory=list, max_length=10)
    revision: int | None = Field(
        default=None, description="PUT: the item's revision you edited (409 if it has moved on)."
    )


class ItemRecord(ItemContent):
    """A record of the exchange file: the content plus status and version on export."""

    ref: Ref
    status: ExchangeStatus | None = None
    version: int | None = None


def content_errors(item: ItemContent) -> list[FieldError]:
    """The rules that span fields: keys among options, one key, choose N, True/False."""
    errors: list[FieldError] = []
    letters = LETTERS[: len(item.options)]
    normalised = [" ".join(option.lower().split()) for option in item.options]
    if len(set(normalised)) != len(normalised):
        errors.append(FieldError("options", "Two options are the same."))
    outside = [key for key in item.keys if key not in letters]
    if outside:
        errors.append(
            FieldError(
                "keys", f"Key {', '.join(outside)} is not among the options (A to {letters[-1]})."
            )
        )
    if len(set(item.keys)) != len(item.keys):
        errors.append(FieldError("keys", "A key is listed twice."))
    if item.type in (ItemType.SINGLE_CHOICE, ItemType.TRUE_FALSE) and len(item.keys) != 1:
        errors.append(
            FieldError("keys", f"A {item.type.replace('_', ' ')} item has exactly one key.")
        )
    if item.type == ItemType.TRUE_FALSE and item.options != TRUE_FALSE_OPTIONS:
        errors.append(FieldError("options", 'A true/false item has the options ["True", "False"].'))
    if item.type == ItemType.MULTIPLE_RESPONSE:
        errors.extend(_multiple_response_errors(item))
    elif item.choose is not None:
        errors.append(FieldError("choose", "Only a multiple response item has 'choose'."))
    stray = [letter for letter in item.fixed if letter not in letters]
    if stray:
        errors.append(FieldError("fixed", f"Fixed option {', '.join(stray)} is not an option."))
    if len(set(item.fixed)) != len(item.fixed):
        errors.append(FieldError("fixed", "A fixed option is listed twice."))
    if len(set(item.competencies)) != len(item.competencies):
        errors.append(FieldError("competencies", "A competency is listed twice."))
    return errors


def _multiple_response_errors(item: ItemContent) -> list[FieldError]:
    errors = []
    if len(item.keys) < 2:
        errors.append(FieldError("keys", "A multiple response item has at least two keys."))
    if len(item.keys) >= len(item.options):
        errors.append(FieldError("keys", "Not every option can be a key."))
    if item.choose is None:
        errors.append(
            FieldError("choose", "Say how many options the candidate must choose (0: any number).")
        )
    elif item.choose not in (ANY_NUMBER, len(item.keys)):
        errors.append(
            FieldError(
                "choose", f"'Choose {item.choose}' does not match the {len(item.keys)} keys."
            )
        )
    return errors


# ---- blueprint rules -------------------------------------------------------------


class BlueprintArea(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code = Field(
        description="A framework node code; items whose primary code starts with it."
    )
    title: str = Field(min_length=1, max_length=200)
    items: int = Field(ge=1, le=500)
    min_percent: float = Field(ge=0, le=100)


class FormDifficulty(BaseModel):
    """Forms of equal difficulty, from the bank's latest Rasch calibration."""

    model_config = ConfigDict(extra="forbid")

    tolerance_items: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="How far a form's expected score at the cut may stand from the pass "
        "mark, in items.",
    )
    max_uncalibrated_percent: float = Field(
        default=10,
        ge=0,
        le=100,
        description="The share of a form that may be items not yet calibrated.",
    )


class ReportingScale(BaseModel):
    """Scores reported on a scale from the Rasch measure, the pass point fixed on it."""

    model_config = ConfigDict(extra="forbid")

    low: int = Field(default=100, ge=0, le=10_000)
    high: int = Field(default=900, ge=1, le=10_000)
    cut: int = Field(default=500, ge=0, le=10_000, description="The pass point on the scale.")
    points_per_logit: float = Field(default=50, gt=0, le=1000)
    cut_measure: float | None = Field(
        default=None,
        ge=-6,
        le=6,
        description="The cut in logits on the bank's calibration (from a standard setting); "
        "else where the average form's expected score is the pass mark.",
    )


class BlueprintSpec(BaseModel):
    """The rules of one blueprint version."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    credential: str = Field(min_length=1, max_length=200)
    level: str = Field(min_length=1, max_length=100)
    framework: Code
    framework_level: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{1,20}$",
        description="The code of the framework's proficiency level this examination targets.",
    )
    item_count: int = Field(ge=1, le=500)
    time_limit_minutes: int = Field(ge=1, le=MAX_TIME_LIMIT_MINUTES)
    areas: list[BlueprintArea] = Field(min_length=1, max_length=20)
    pass_overall_percent: float = Field(ge=0, le=100)
    retake_wait_days: int = Field(ge=0, le=365)
    max_attempts_per_12_months: int = Field(ge=1, le=50)
    certificate_validity_months: int = Field(ge=1, le=240)
    exposure_cap_percent: float = Field(default=30, gt=0, le=100)
    partial_credit: bool = False
    hold_results_for_review: bool = False
    shuffle_within_sets: bool = Field(
        default=False,
        description="Shuffle the items of a stimulus's set among themselves (else authored order).",
    )
    pretest_items: int = Field(
        default=0,
        ge=0,
        le=20,
        description="Unscored items on trial seeded into each form, on top of item_count.",
    )
    form_difficulty: FormDifficulty | None = Field(
        default=None,
        description="Even every form out to the same expected score at the cut "
        "(needs a calibration of the bank).",
    )
    scaled_score: ReportingScale | None = Field(
        default=None,
        description="Report a scaled score beside the percentage; the overall pass then "
        "goes by the Rasch measure (needs a calibration of the bank).",
    )


def blueprint_errors(spec: BlueprintSpec) -> list[FieldError]:
    errors = []
    total = sum(area.items for area in spec.areas)
    if total != spec.item_count:
        errors.append(
            FieldError("areas", f"The areas add up to {total} items, not {spec.item_count}.")
        )
    scale = spec.scaled_score
    if scale is not None and not scale.low < scale.cut < scale.high:
        errors.append(
            FieldError(
                "scaled_score.cut",
                f"The pass point {scale.cut} must lie inside the scale {scale.low}-{scale.high}.",
            )
        )
    codes = [area.code for area in spec.areas]
    if len(set(codes)) != len(codes):
        errors.append(FieldError("areas", "An area is listed twice."))
    for a in codes:
        for b in codes:
            if a != b and code_under(b, a):
                errors.append(FieldError("areas", f"Area {b} lies inside area {a}."))
    return errors
