"""What a provider writes: one schema for the API, the pages and the frozen versions."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from accreditation.models import DeliveryMode, Judgement, Recommendation
from core.api import ApiModel
from core.web import MAX_ID
from item_bank.programmes import DEFAULT_PROGRAMME

Text200 = Field(default="", max_length=200)


class OrganisationInput(ApiModel):
    legal_name: str = Field(min_length=2, max_length=200)
    country: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, e.g. GB")
    website: str = Field(pattern=r"^https?://\S+$", max_length=300)
    contact_name: str = Field(min_length=2, max_length=200)
    contact_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class Trainer(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    qualifications: str = Field(default="", max_length=2000)
    certificate_code: str = Field(default="", max_length=40, description="A CSM1 code, if any")


class MappingEntry(ApiModel):
    """How the programme covers one leaf competency, or why it does not."""

    module: str = Field(default="", max_length=200)
    minutes: int | None = Field(default=None, ge=1, le=100_000)
    outcome: str = Field(default="", max_length=1000)
    not_covered_reason: str = Field(default="", max_length=1000)

    @property
    def covered(self) -> bool:
        return bool(self.module and self.minutes and self.outcome)

    @property
    def answered(self) -> bool:
        return self.covered or bool(self.not_covered_reason)


class ApplicationContent(ApiModel):
    """A draft may be partial; submitting checks it is complete."""

    title: str = Field(min_length=2, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    description: str = Field(default="", max_length=5000)
    delivery_mode: DeliveryMode | Literal[""] = ""
    contact_hours: int | None = Field(default=None, ge=1, le=10_000)
    learner_assessment: str = Field(default="", max_length=5000)
    trainers: list[Trainer] = Field(default_factory=list, max_length=50)
    mapping: dict[str, MappingEntry] = Field(default_factory=dict)
    declaration_accepted: bool = False


class DraftUpdate(ApiModel):
    content: ApplicationContent
    version: int = Field(
        ge=1, le=MAX_ID, description="The version you edited (409 if it has moved on)"
    )


class NewApplication(ApiModel):
    content: ApplicationContent
    renews: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The accreditation it renews"
    )
    programme: str = Field(
        default=DEFAULT_PROGRAMME,
        min_length=1,
        max_length=60,
        description="The certification programme the training prepares for (its code); "
        "the mapping is to that programme's framework. A renewal keeps the programme renewed.",
    )


class TransitionInput(ApiModel):
    action: str = Field(min_length=1, max_length=40)
    version: int = Field(ge=1, le=MAX_ID)
    comment: str = Field(default="", max_length=8000)
    assessor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    due_on: date | None = None
    has_conflict: bool | None = None
    judgements: dict[str, Judgement] = Field(default_factory=dict)
    judgement_comments: dict[str, str] = Field(default_factory=dict)
    recommendation: Recommendation | Literal[""] = ""
    conditions: list[ConditionInput] = Field(default_factory=list, max_length=20)


class ConditionInput(ApiModel):
    text: str = Field(min_length=3, max_length=2000)
    due_on: date


TransitionInput.model_rebuild()
