"""Request bodies of the exam's JSON (the API and the exam page's own endpoints)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from core.api import ApiModel
from core.web import MAX_ID


class SittingRequest(ApiModel):
    blueprint: str = Field(min_length=1, max_length=60)
    title: str = Field(min_length=1, max_length=200)
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    capacity: int = Field(ge=1, le=10_000)
    mode: Literal["online", "test_centre"]
    location: str = Field(default="", max_length=300)
    proctor_ids: list[int] = Field(default_factory=list, max_length=50)
    start_spread_minutes: int = Field(
        default=0,
        ge=0,
        le=60,
        description="Spread the starts over this many minutes from the opening; "
        "each admitted candidate gets a start time the server enforces.",
    )


class AdmissionRequest(ApiModel):
    candidate_id: int = Field(ge=1, le=MAX_ID)
    decision: Literal["admit", "turn_away"] = "admit"
    identity_check: str = Field(default="", max_length=2000)
    reason: str = Field(default="", max_length=40)


class StartRequest(ApiModel):
    sitting_id: int = Field(ge=1, le=MAX_ID)


class ResponseRequest(ApiModel):
    selected: list[str] = Field(max_length=6)
    flagged: bool = False
    answered_at: int | None = Field(
        default=None,
        ge=0,
        le=2**53,
        description="When the answer was chosen, ms since the epoch on the server's clock "
        "(the page adds its measured offset). A save chosen before the stored answer leaves "
        "it as it is; omitted, the server's time of arrival.",
    )


class EventRequest(ApiModel):
    kind: str = Field(min_length=1, max_length=30)
    detail: str = Field(default="", max_length=500)


class InvalidateRequest(ApiModel):
    action: Literal["do_not_score", "correct_key"]
    reason: str = Field(min_length=1, max_length=4000)
    version: int | None = Field(default=None, ge=1)
    keys: list[Literal["A", "B", "C", "D", "E", "F"]] | None = Field(default=None, max_length=5)


class ProctorRequest(ApiModel):
    reason: str = Field(default="", max_length=2000)
    minutes: int | None = Field(default=None, ge=1, le=120)
