"""What the candidate is shown of each question of a form, read in three plain queries.

A start answers with the whole form, so reading it is on the path of every candidate
pressing start together. The form's item versions are read as columns (stem, options,
passage, media), never as ORM objects with their relationships: only what the candidate
may see, and never a key, a rationale or a review status.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam.models import AttemptItem
from exam.services.media_access import ShownMedia
from exam.services.shown_stimuli import ShownStimulus
from exam.services.stimulus_media import media_of_stimuli
from item_bank.media_models import ItemVersionMedia, MediaFile
from item_bank.models import ItemVersion
from item_bank.stimulus_models import StimulusVersion


@dataclass(frozen=True)
class SlotContent:
    """One question of the form as drawn: its place, its option order, what it shows."""

    position: int
    option_order: tuple[str, ...]
    type: str
    stem: str
    choose: int | None
    options: tuple[str, ...]  # the authored options, in authored order
    stimulus: ShownStimulus | None
    media: tuple[ShownMedia, ...]


def form_content(session: Session, attempt_id: int) -> list[SlotContent]:
    """The attempt's questions in the candidate's order."""
    rows = session.execute(
        select(
            AttemptItem.position,
            AttemptItem.option_order,
            ItemVersion.id,
            ItemVersion.type,
            ItemVersion.stem,
            ItemVersion.choose,
            ItemVersion.options,
            StimulusVersion.id,
            StimulusVersion.title,
            StimulusVersion.body,
        )
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .outerjoin(StimulusVersion, StimulusVersion.id == ItemVersion.stimulus_version_id)
        .where(AttemptItem.attempt_id == attempt_id)
        .order_by(AttemptItem.position)
    ).all()
    media = _media_of(session, attempt_id)
    exhibits = media_of_stimuli(session, {row[7] for row in rows if row[7] is not None})
    return [
        SlotContent(
            position=position,
            option_order=tuple(order),
            type=kind,
            stem=stem,
            choose=choose,
            options=tuple(options),
            stimulus=ShownStimulus(stimulus_id, title, body, media=exhibits.get(stimulus_id, ()))
            if stimulus_id
            else None,
            media=media.get(version_id, ()),
        )
        for (
            position,
            order,
            version_id,
            kind,
            stem,
            choose,
            options,
            stimulus_id,
            title,
            body,
        ) in rows
    ]


def _media_of(session: Session, attempt_id: int) -> dict[int, tuple[ShownMedia, ...]]:
    rows = session.execute(
        select(
            ItemVersionMedia.version_id,
            ItemVersionMedia.sha256,
            MediaFile.kind,
            MediaFile.content_type,
            ItemVersionMedia.alt,
            ItemVersionMedia.transcript,
            MediaFile.width,
            MediaFile.height,
        )
        .join(MediaFile, MediaFile.sha256 == ItemVersionMedia.sha256)
        .join(AttemptItem, AttemptItem.item_version_id == ItemVersionMedia.version_id)
        .where(AttemptItem.attempt_id == attempt_id)
        .order_by(ItemVersionMedia.version_id, ItemVersionMedia.position)
    ).all()
    found: dict[int, list[ShownMedia]] = {}
    for version_id, sha256, kind, content_type, alt, transcript, width, height in rows:
        shown = ShownMedia(sha256, kind, content_type, alt, transcript, width, height)
        found.setdefault(version_id, []).append(shown)
    return {version_id: tuple(media) for version_id, media in found.items()}
