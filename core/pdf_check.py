"""Is an upload a plain PDF document? Judged by its structure (pypdf), not by marker bytes.

A reviewer opens evidence in a browser or a PDF reader, so a document must be a PDF that
opens, from its first byte (a file a browser could take for HTML is refused), and must
carry nothing that acts on its own: no JavaScript, no launch or form-submit actions, no
embedded files, no encryption that hides what is inside.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from core.errors import FieldError, Problem

FIELD = "file"
# A 10 MB document holds far fewer objects; the walk stops rather than run on.
MAX_OBJECTS = 200_000
# Keys whose presence anywhere means active or hidden content, and why it is refused.
REFUSED_KEYS: dict[str, str] = {
    "/JS": "contains JavaScript",
    "/JavaScript": "contains JavaScript",
    "/EmbeddedFile": "contains an embedded file",
    "/EmbeddedFiles": "contains an embedded file",
    "/EF": "contains an embedded file",
    "/RichMedia": "contains embedded media",
}
# Action types (the /S of an action dictionary) that run something or send data away.
REFUSED_ACTIONS: dict[str, str] = {
    "/JavaScript": "contains JavaScript",
    "/Launch": "has an action that launches a program",
    "/SubmitForm": "has an action that submits a form",
    "/ImportData": "has an action that imports data",
    "/GoToE": "has an action that opens an embedded file",
}


class UnsafePdf(Problem):
    def __init__(self, status: int, title: str, why: str) -> None:
        message = f"The file {why}. Upload a plain PDF document."
        super().__init__(status, title, message, errors=[FieldError(FIELD, message)])


def check_pdf(data: bytes) -> None:
    """Refuse anything but a plain, openable, unencrypted PDF without active content."""
    if not data.startswith(b"%PDF-"):
        raise UnsafePdf(415, "Not a PDF", "is not a PDF document (it must begin with %PDF-)")
    reader = _open(data)
    if reader.is_encrypted:
        raise UnsafePdf(422, "Encrypted PDF", "is encrypted or password-protected")
    why = _active_content(reader)
    if why:
        raise UnsafePdf(422, "PDF with active content", why)


def _open(data: bytes) -> PdfReader:
    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # a repaired cross-reference table is not news
    try:
        reader = PdfReader(io.BytesIO(data))
        if not reader.is_encrypted and len(reader.pages) < 1:
            raise UnsafePdf(415, "Not a PDF", "has no pages")
        return reader
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise UnsafePdf(415, "Not a PDF", "is not a PDF document that opens") from exc
    finally:
        quiet.setLevel(level)


def _active_content(reader: PdfReader) -> str | None:
    try:
        for obj in _objects(reader):
            why = _refusal(obj)
            if why:
                return why
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise UnsafePdf(415, "Not a PDF", "is not a PDF document that opens") from exc
    return None


def _refusal(obj: DictionaryObject) -> str | None:
    for key, why in REFUSED_KEYS.items():
        if key in obj:
            return why
    action = obj.get("/S")
    if isinstance(action, NameObject) and str(action) in REFUSED_ACTIONS:
        return REFUSED_ACTIONS[str(action)]
    return None


def _objects(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every dictionary reachable from the trailer, each object visited once."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(item, DictionaryObject):
            yield item
            stack.extend(value for key, value in item.items() if key != "/Parent")
        elif isinstance(item, ArrayObject):
            stack.extend(item)
