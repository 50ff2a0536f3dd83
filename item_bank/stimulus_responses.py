"""The stimulus API's JSON bodies, and the stimulus an item's body carries."""

from __future__ import annotations

from pydantic import Field

from core.api import Moment, ResponseModel
from item_bank.schemas import MediaRef
from item_bank.stimulus_models import Stimulus


class StimulusLinkOut(ResponseModel):
    """The shared passage an item version is on: the exact version's text, and the item's
    place in the passage's set."""

    ref: str
    position: int | None
    title: str
    body: str
    media: list[MediaRef] = Field(
        default_factory=list, description="The exhibits shown after the passage."
    )


class StimulusVersionOut(ResponseModel):
    number: int
    title: str
    body: str
    media: list[MediaRef]
    created_at: Moment


class StimulusOut(ResponseModel):
    """A stimulus: its current text, every version, and its set's items (refs, in order)."""

    id: int
    ref: str
    revision: int
    version: int
    title: str
    body: str
    media: list[MediaRef] = Field(description="The current version's exhibits, in order.")
    versions: list[StimulusVersionOut]
    items: list[str]


class StimulusList(ResponseModel):
    stimuli: list[StimulusOut]


def stimulus_out(stimulus: Stimulus, items: list[str]) -> StimulusOut:
    current = stimulus.current
    return StimulusOut(
        id=stimulus.id,
        ref=stimulus.ref,
        revision=stimulus.revision,
        version=current.number,
        title=current.title,
        body=current.body,
        media=[MediaRef.model_validate(m) for m in current.media_entries()],
        versions=[
            StimulusVersionOut(
                number=v.number,
                title=v.title,
                body=v.body,
                media=[MediaRef.model_validate(m) for m in v.media_entries()],
                created_at=v.created_at,
            )
            for v in stimulus.versions
        ],
        items=items,
    )


OPENAPI_MODELS: tuple[type[ResponseModel], ...] = (StimulusOut, StimulusList)
