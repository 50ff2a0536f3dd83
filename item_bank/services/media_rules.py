"""The rules of an item's media: every file stored, an image with alt text, audio with a
transcript or description; and the media rows of a version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import FieldError
from item_bank.media_models import ItemVersionMedia, MediaFile, MediaKind
from item_bank.models import ItemVersion
from item_bank.schemas import ItemContent, MediaRef


def media_kinds(session: Session, hashes: Sequence[str]) -> dict[str, str]:
    """The kind of each stored file among ``hashes``."""
    if not hashes:
        return {}
    rows = session.execute(
        select(MediaFile.sha256, MediaFile.kind).where(MediaFile.sha256.in_(set(hashes)))
    )
    return {sha: kind for sha, kind in rows}


def media_errors(
    session: Session, media: Sequence[MediaRef], kinds: Mapping[str, str] | None = None
) -> list[FieldError]:
    """What is wrong with ``media``; ``kinds`` are files not stored yet (an import's)."""
    if not media:
        return []
    known = {**media_kinds(session, [m.sha256 for m in media]), **(kinds or {})}
    errors = []
    for number, medium in enumerate(media, start=1):
        kind = known.get(medium.sha256)
        where = f"media.{number}"
        if kind is None:
            errors.append(FieldError(where, f"No stored file {medium.sha256[:12]}; upload it."))
        elif kind == MediaKind.IMAGE and not medium.alt:
            errors.append(FieldError(where, "An image needs alt text for those who cannot see it."))
        elif kind == MediaKind.AUDIO and not medium.transcript:
            errors.append(
                FieldError(where, "Audio needs a transcript or a description of what it holds.")
            )
    if len({m.sha256 for m in media}) != len(media):
        errors.append(FieldError("media", "A file is listed twice."))
    return errors


def version_media(version: ItemVersion, content: ItemContent) -> list[ItemVersionMedia]:
    """The version's media rows for ``content``, reusing the rows a draft already has (a row
    is keyed by its place, so one replaced by another at the same place is updated)."""
    rows = list(version.media)[: len(content.media)]
    for position, medium in enumerate(content.media):
        if position == len(rows):
            rows.append(ItemVersionMedia(position=position))
        rows[position].sha256 = medium.sha256
        rows[position].alt = medium.alt
        rows[position].transcript = medium.transcript
    return rows
