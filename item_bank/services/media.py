"""Media files of items: checked by their content, stored once by SHA-256, outside ``static/``.

A file is what its bytes say, never what its name says: an image must decode with Pillow
(PNG, JPEG, WebP) or be an SVG that holds drawing only (no script, no event handler, no
reference outside the file: such a file is refused, not cleaned); audio must carry the
signature of MP3, Ogg, WAV or MP4 audio. Each file is stored under its hash, so the same
bytes are kept once and what an item version points at never changes.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from item_bank.media_models import MediaFile, MediaKind
from item_bank.services.svg import SvgRefused, check_svg

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_AUDIO_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_ALT = 1000
MAX_TRANSCRIPT = 20_000

# What a name's extension promises; the content must keep the promise.
EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
}
PILLOW_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
SUFFIXES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/wav": ".wav",
    "audio/mp4": ".m4a",
}


class MediaRefused(Problem):
    """A file that is not what it claims, too large, or unsafe: one line naming it."""

    def __init__(self, status: int, name: str, reason: str) -> None:
        super().__init__(
            status,
            "Media refused",
            f"{name}: {reason}",
            errors=[FieldError("file", reason)],
        )
        self.reason = reason


@dataclass(frozen=True)
class Checked:
    """What a file's content turned out to be."""

    sha256: str
    kind: MediaKind
    content_type: str
    width: int | None
    height: int | None


def kind_of(content_type: str) -> MediaKind:
    return MediaKind.IMAGE if content_type.startswith("image/") else MediaKind.AUDIO


def suffix_for(content_type: str) -> str:
    return SUFFIXES.get(content_type, "")


def claimed_type(name: str) -> str:
    suffix = posixpath.splitext(name.lower())[1]
    if suffix not in EXTENSIONS:
        raise MediaRefused(
            415,
            name,
            "not a supported medium (PNG, JPEG, WebP or SVG images; MP3, Ogg, WAV or M4A audio).",
        )
    return EXTENSIONS[suffix]


def _audio_type(data: bytes) -> str | None:
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data[:4] == b"OggS":
        return "audio/ogg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp" and data[8:12] in (b"M4A ", b"mp42", b"isom", b"mp41", b"M4B "):
        return "audio/mp4"
    return None


def _raster(data: bytes, name: str) -> tuple[str, int, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt, (width, height) = image.format or "", image.size
                if width * height > MAX_PIXELS:
                    raise MediaRefused(413, name, f"{width}x{height} pixels is too large.")
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaRefused(415, name, "not a readable PNG, JPEG or WebP image.") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRefused(413, name, "too many pixels to be a real image.") from exc
    if fmt not in PILLOW_TYPES:
        raise MediaRefused(415, name, f"a {fmt or 'unknown'} image; use PNG, JPEG or WebP.")
    return PILLOW_TYPES[fmt], width, height


def check_file(data: bytes, name: str) -> Checked:
    """The file's true type, or a :class:`MediaRefused` naming it."""
    claimed = claimed_type(name)
    limit = MAX_IMAGE_BYTES if claimed.startswith("image/") else MAX_AUDIO_BYTES
    if len(data) > limit:
        raise MediaRefused(413, name, f"larger than {limit // (1024 * 1024)} MB.")
    if not data:
        raise MediaRefused(415, name, "the file is empty.")
    width = height = None
    if claimed == "image/svg+xml":
        try:
            width, height = check_svg(data)
        except SvgRefused as exc:
            raise MediaRefused(415, name, str(exc)) from exc
        actual = claimed
    elif claimed.startswith("image/"):
        actual, width, height = _raster(data, name)
    else:
        found = _audio_type(data)
        if found is None:
            raise MediaRefused(415, name, "not MP3, Ogg, WAV or M4A audio.")
        actual = found
    if actual != claimed:
        raise MediaRefused(415, name, f"named {claimed} but its content is {actual}.")
    return Checked(hashlib.sha256(data).hexdigest(), kind_of(actual), actual, width, height)


def media_dir() -> Path:
    """Outside ``static/``: media reach a browser only through a route that checks who asks."""
    return Path(current_app.config.get("MEDIA_DIR") or Path(current_app.instance_path) / "media")


def media_path(sha256: str) -> Path:
    return media_dir() / sha256[:2] / sha256


def write_once(sha256: str, data: bytes) -> None:
    """Written to a temporary name and renamed: a reader never sees half a file."""
    target = media_path(sha256)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temporary, target)


def media_row(name: str, data: bytes, checked: Checked) -> dict[str, Any]:
    """The ``media_file`` row of a checked file."""
    return {
        "sha256": checked.sha256,
        "kind": checked.kind,
        "content_type": checked.content_type,
        "size": len(data),
        "width": checked.width,
        "height": checked.height,
        "filename": posixpath.basename(name.replace("\\", "/"))[:200],
        "created_at": clock.now(),
    }


def store_media(
    session: Session, data: bytes, name: str, checked: Checked | None = None
) -> MediaFile:
    """The file, checked and stored once by its hash (the caller commits)."""
    checked = checked or check_file(data, name)
    existing = session.get(MediaFile, checked.sha256)
    write_once(checked.sha256, data)
    if existing is not None:
        return existing
    media = MediaFile(**media_row(name, data, checked))
    session.add(media)
    session.flush()
    return media


def upload_media(session: Session, actor: Actor, data: bytes, name: str) -> MediaFile:
    """An upload by staff: stored and committed, ready for an item version to use."""
    media = store_media(session, data, name)
    audit.record(
        session,
        actor_id=actor.id,
        action="media.uploaded",
        object_type="media",
        object_id=media.sha256,
        after={"content_type": media.content_type, "size": media.size, "name": media.filename},
    )
    session.commit()
    return media


def known_media(session: Session, hashes: list[str]) -> dict[str, MediaFile]:
    if not hashes:
        return {}
    found = session.scalars(select(MediaFile).where(MediaFile.sha256.in_(hashes)))
    return {media.sha256: media for media in found}
