"""JSON bodies of the psychometric API (what is sent and what is documented)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from core.api import ApiModel, ResponseModel


class LongResponse(ResponseModel):
    """One administered item of one attempt."""

    attempt: str  # the export's pseudonym of the attempt
    sitting: int
    item_ref: str
    item_version: int
    competency: str
    position: int
    response: str  # the option letters chosen, ';'-separated; empty when unanswered
    score: float | None  # null: not scored (taken out of scoring)
    answered_after_s: int | None  # seconds from the start to the answer's last save
    pretest: bool = False  # an item on trial: scored for analysis, not counted in the result
    candidate_name: str | None = None  # only in an identified export
    candidate_email: str | None = None


class WidePerson(ResponseModel):
    attempt: str
    # One per item column: the score, null when on the form but not scored, or the
    # missing code when the item was not on this attempt's form.
    scores: list[float | str | None]
    candidate_name: str | None = None
    candidate_email: str | None = None


class ResponseExportOut(ResponseModel):
    """An export: ``responses`` in the long layout; ``items`` and ``persons`` in the wide."""

    export: str
    blueprint: str
    sitting: int | None
    layout: str
    identified: bool
    responses: list[LongResponse] | None = None
    missing: str | None = None
    items: list[str] | None = None
    persons: list[WidePerson] | None = None


class ItemCalibrationOut(ResponseModel):
    ref: str
    version: int
    competency: str
    n: int
    p_value: float
    difficulty: float  # logits, the items averaging 0
    se: float
    infit: float
    outfit: float
    flags: list[str]


class CalibrationOut(ResponseModel):
    """A Rasch calibration run: the persons' spread and each item version's estimates."""

    run: int
    run_at: datetime
    sitting: int | None
    persons: int
    responses: int
    population_mean: float
    population_sd: float
    converged: bool
    left_out: list[list[str]]
    items: list[ItemCalibrationOut]


class DriftPeriodOut(ResponseModel):
    label: str  # 2026-11, or "before 2 November 2026" / "last 30 days"
    starts: datetime
    ends: datetime  # exclusive
    forms: int  # graded attempts whose form was drawn in the period


class ItemPeriodOut(ResponseModel):
    period: str
    forms: int  # of the period's forms, those that carried the item
    exposure: float  # forms over the period's forms
    n: int  # scored responses
    p_value: float | None


class DriftTestOut(ResponseModel):
    """The latest period against the earlier ones pooled."""

    baseline_n: int
    baseline_p: float | None
    latest_n: int
    latest_p: float | None
    change: float | None
    chi_square: float | None  # Pearson, no continuity correction (z squared)
    z: float | None  # positive when the item got easier
    test_p: float | None
    cohens_h: float | None
    enough: bool  # both sides reach min_n


class ItemDriftOut(ResponseModel):
    ref: str
    version: int
    competency: str
    periods: list[ItemPeriodOut]
    drift: DriftTestOut | None
    signal: str | None  # easier (possible leak), harder, or null


class DriftOut(ResponseModel):
    """Exposure and p-value drift of every item version; ``alerts`` names the alerted ones."""

    blueprint: str
    mode: str
    days: int
    threshold: float
    alpha: float
    min_n: int
    periods: list[DriftPeriodOut]
    alerts: list[str]  # "REF vN", the leak signal first
    items: list[ItemDriftOut]


class PretestItemOut(ResponseModel):
    """An item on trial for a blueprint and how it has done so far."""

    item_id: int
    ref: str
    competency: str
    status: str  # pretest, promoted or dropped
    added_at: str
    n: int  # candidates who answered it
    p_value: float | None
    point_biserial: float | None
    difficulty: float | None  # Rasch logits in the latest calibration, when calibrated
    note: str


class PretestListOut(ResponseModel):
    blueprint: str
    per_form: int  # how many pretest items the blueprint seeds into each form
    items: list[PretestItemOut]


class PretestDecisionRequest(ApiModel):
    note: str = Field(min_length=1, max_length=2000, description="Why, for the record")


OPENAPI_MODELS = (
    ResponseExportOut,
    CalibrationOut,
    DriftOut,
    PretestListOut,
    PretestItemOut,
    PretestDecisionRequest,
)
