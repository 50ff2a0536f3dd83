"""Media in QTI: ``<img src alt>``, ``<object data type>`` and QTI 2.2's ``<audio>`` in an
item's body, in from a content package and out into one.

On import each medium is resolved against the item file's folder, read from the package,
checked by its content (``item_bank.services.media``) and carried on the record with its
bytes; it is stored only once the whole import is valid, so a refused import leaves the
bank as it was. Every refusal names the file and the item. An ``<img>`` without alt text
is refused (the bank requires it), and so is one inside a choice (the bank shows media
after the stem). An ``<object>``'s text is its transcript or description, and so is an
``<audio>``'s (its fallback text); audio without one is refused. On export each
file is written once, under ``media/`` by its hash, and every item that shows it lists it
in the manifest.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from sqlalchemy import insert
from sqlalchemy.orm import Session

from core.errors import Problem
from item_bank.media_models import MediaFile, MediaKind
from item_bank.services.media import (
    Checked,
    check_file,
    known_media,
    media_path,
    media_row,
    suffix_for,
    write_once,
)
from item_bank.transfer.markup import plain_text
from item_bank.transfer.package import Package, local

TAGS = ("img", "object", "audio")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
FILES_KEY = "_media_files"


class MediaProblem(Exception):
    """A medium of one item the import cannot take: the field and a one-line reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImportedFile:
    name: str  # the path inside the package
    data: bytes
    checked: Checked


class MediaReader:
    """Finds an item's media files in its package (None: a lone XML file has none)."""

    def __init__(self, package: Package | None, item_path: str) -> None:
        self.package = package
        self.item_path = item_path

    def resolve(self, reference: str) -> str:
        reference = reference.strip()
        if not reference or SCHEME.match(reference) or reference.startswith(("/", "\\", "//")):
            raise MediaProblem(f"{reference or '(empty)'}: media must be a file in the package.")
        joined = posixpath.normpath(
            posixpath.join(posixpath.dirname(self.item_path), reference.replace("\\", "/"))
        )
        if joined == ".." or joined.startswith("../"):
            raise MediaProblem(f"{reference}: the path points outside the package.")
        return joined

    def read(self, reference: str) -> ImportedFile:
        name = self.resolve(reference)
        if self.package is None:
            raise MediaProblem(f"{name}: not in the upload; import a content package (.zip).")
        if name not in self.package:
            raise MediaProblem(f"{name}: the media file is missing from the package.")
        try:
            data = self.package.read(name)
            checked = check_file(data, name)
        except Problem as problem:
            raise MediaProblem(problem.detail) from problem
        return ImportedFile(name, data, checked)


def _parents(root: Any) -> dict[Any, Any]:
    return {child: parent for parent in root.iter() for child in parent}


def take_media(
    body: Any, interaction: Any, reader: MediaReader
) -> tuple[list[dict[str, str]], dict[str, ImportedFile]]:
    """The body's media as ``ItemContent.media`` entries and their files, each element
    taken out of the body so that the stem is the text around them."""
    found = [e for e in body.iter() if local(e.tag) in TAGS]
    if not found:
        return [], {}
    inside = {id(e) for e in interaction.iter() if local(e.tag) in TAGS}
    parents = _parents(body)
    entries: list[dict[str, str]] = []
    files: dict[str, ImportedFile] = {}
    for element in found:
        reference = _reference(element)
        if id(element) in inside:
            raise MediaProblem(
                f"{reference}: media inside a choice are not supported; place it in the item body."
            )
        file = reader.read(reference or "")
        entries.append(_entry(element, file))
        files[file.checked.sha256] = file
        _remove(element, parents)
    return entries, files


def _reference(element: Any) -> str | None:
    """The file an element shows: ``img@src``, ``object@data``, ``audio@src`` or the
    ``src`` of the audio's first ``<source>``."""
    name = local(element.tag)
    if name == "object":
        reference = element.get("data")
    elif name == "audio" and not element.get("src"):
        reference = next((s.get("src") for s in element if local(s.tag) == "source"), None)
    else:
        reference = element.get("src")
    return reference if isinstance(reference, str) else None


def _entry(element: Any, file: ImportedFile) -> dict[str, str]:
    sha = file.checked.sha256
    if local(element.tag) == "audio" and file.checked.kind != MediaKind.AUDIO:
        raise MediaProblem(f"{file.name}: an <audio> must play a sound file, not an image.")
    if file.checked.kind == MediaKind.IMAGE:
        if local(element.tag) == "object":
            return {"sha256": sha, "alt": " ".join(plain_text(element).split()), "transcript": ""}
        alt = " ".join((element.get("alt") or "").split())
        if not alt:
            raise MediaProblem(f"{file.name}: the <img> has no alt text; the bank requires it.")
        return {"sha256": sha, "alt": alt, "transcript": ""}
    transcript = plain_text(element).strip()
    if not transcript:
        raise MediaProblem(
            f"{file.name}: the audio has no transcript (the text of its <{local(element.tag)}>);"
            " the bank requires one."
        )
    return {"sha256": sha, "alt": "", "transcript": transcript}


def _remove(element: Any, parents: dict[Any, Any]) -> None:
    """Out of its parent, its tail text kept in place."""
    parent = parents[element]
    index = list(parent).index(element)
    if element.tail:
        if index:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def files_of(raw: Any) -> dict[str, ImportedFile]:
    files = raw.get(FILES_KEY) if isinstance(raw, dict) else None
    return files if isinstance(files, dict) else {}


def import_kinds(raw_records: Iterable[Any]) -> dict[str, str]:
    """The kind of every file the import carries, by hash."""
    return {sha: f.checked.kind for raw in raw_records for sha, f in files_of(raw).items()}


def store_import_media(session: Session, raw_records: Iterable[Any]) -> int:
    """Every file the import carries, stored once (one query for those already stored, one
    insert for the rest); how many distinct files."""
    files = {sha: file for raw in raw_records for sha, file in files_of(raw).items()}
    hashes = list(files)
    known = {
        sha
        for start in range(0, len(hashes), 2000)
        for sha in known_media(session, hashes[start : start + 2000])
    }
    for sha, file in files.items():
        write_once(sha, file.data)
    fresh = [
        media_row(file.name, file.data, file.checked)
        for sha, file in files.items()
        if sha not in known
    ]
    if fresh:
        session.execute(insert(MediaFile), fresh)
    return len(files)


# ---- export -----------------------------------------------------------------------


def media_href(sha256: str, content_type: str) -> str:
    return f"media/{sha256}{suffix_for(content_type)}"


def write_media(
    body: Element, namespace: str, media: list[dict[str, str]], types: dict[str, str]
) -> None:
    """The item's media after its stem: an image as ``<p><img/></p>``, audio as an object
    whose text is its transcript. Paths are relative to the item file (``items/``)."""
    for medium in media:
        content_type = types[medium["sha256"]]
        src = "../" + media_href(medium["sha256"], content_type)
        paragraph = SubElement(body, f"{{{namespace}}}p")
        if content_type.startswith("image/"):
            SubElement(paragraph, f"{{{namespace}}}img", {"src": src, "alt": medium["alt"]})
        else:
            audio = SubElement(
                paragraph, f"{{{namespace}}}object", {"data": src, "type": content_type}
            )
            audio.text = medium["transcript"]


def media_bytes(sha256: str) -> bytes:
    return media_path(sha256).read_bytes()
