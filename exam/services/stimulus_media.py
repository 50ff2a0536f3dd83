"""The media a form shows, as the candidate's page shows them (never a file's name): each
item version's own, and each scenario version's exhibits after its passage."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam.services.media_access import ShownMedia
from item_bank.media_models import ItemVersionMedia, MediaFile, StimulusVersionMedia


def media_of_items(
    session: Session, item_version_ids: Collection[int]
) -> dict[int, tuple[ShownMedia, ...]]:
    """The media of each of the item versions, in order, by version id (none: left out)."""
    return _media_of(session, ItemVersionMedia, item_version_ids)


def media_of_stimuli(
    session: Session, stimulus_version_ids: Collection[int]
) -> dict[int, tuple[ShownMedia, ...]]:
    """The exhibits of each of the scenario versions, by version id (none: left out)."""
    return _media_of(session, StimulusVersionMedia, stimulus_version_ids)


def _media_of(
    session: Session,
    link: type[ItemVersionMedia] | type[StimulusVersionMedia],
    version_ids: Collection[int],
) -> dict[int, tuple[ShownMedia, ...]]:
    if not version_ids:
        return {}
    rows = session.execute(
        select(
            link.version_id,
            link.sha256,
            MediaFile.kind,
            MediaFile.content_type,
            link.alt,
            link.transcript,
            MediaFile.width,
            MediaFile.height,
        )
        .join(MediaFile, MediaFile.sha256 == link.sha256)
        .where(link.version_id.in_(set(version_ids)))
        .order_by(link.version_id, link.position)
    ).all()
    found: dict[int, list[ShownMedia]] = {}
    for version_id, sha256, kind, content_type, alt, transcript, width, height in rows:
        shown = ShownMedia(sha256, kind, content_type, alt, transcript, width, height)
        found.setdefault(version_id, []).append(shown)
    return {version_id: tuple(media) for version_id, media in found.items()}
