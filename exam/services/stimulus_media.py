"""The exhibits of the passages a form shows: each scenario version's media, in order, as
the candidate's page shows them (never a file's name)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam.services.media_access import ShownMedia
from item_bank.media_models import MediaFile, StimulusVersionMedia


def media_of_stimuli(
    session: Session, stimulus_version_ids: Collection[int]
) -> dict[int, tuple[ShownMedia, ...]]:
    """The media of each of the scenario versions, by version id (none: left out)."""
    if not stimulus_version_ids:
        return {}
    rows = session.execute(
        select(
            StimulusVersionMedia.version_id,
            StimulusVersionMedia.sha256,
            MediaFile.kind,
            MediaFile.content_type,
            StimulusVersionMedia.alt,
            StimulusVersionMedia.transcript,
            MediaFile.width,
            MediaFile.height,
        )
        .join(MediaFile, MediaFile.sha256 == StimulusVersionMedia.sha256)
        .where(StimulusVersionMedia.version_id.in_(set(stimulus_version_ids)))
        .order_by(StimulusVersionMedia.version_id, StimulusVersionMedia.position)
    ).all()
    found: dict[int, list[ShownMedia]] = {}
    for version_id, sha256, kind, content_type, alt, transcript, width, height in rows:
        shown = ShownMedia(sha256, kind, content_type, alt, transcript, width, height)
        found.setdefault(version_id, []).append(shown)
    return {version_id: tuple(media) for version_id, media in found.items()}
