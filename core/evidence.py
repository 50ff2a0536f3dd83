"""Evidence documents, for every room that takes them: plain PDFs checked by their
structure (``core.pdf_check``), size-limited, and kept outside ``static/`` under a random
name, so they are served only through a route that checks who asks."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, send_file

from core.errors import Problem
from core.pdf_check import check_pdf

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class StoredPdf:
    storage_name: str
    size: int
    sha256: str


def documents_dir(app: Flask) -> Path:
    """Outside ``static/``: documents are served only through a checked route."""
    return Path(app.instance_path) / "documents"


def store_pdf(app: Flask, data: bytes) -> StoredPdf:
    """Check the upload (a 413 when too large, a 415 or 422 naming ``file`` when it is not
    a plain PDF) and keep it; nothing is written for a refused file."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Problem(413, "Too large", "A document may be at most 10 MB.")
    check_pdf(data)
    storage_name = secrets.token_hex(16) + ".pdf"
    folder = documents_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / storage_name).write_bytes(data)
    return StoredPdf(storage_name, len(data), hashlib.sha256(data).hexdigest())


def safe_filename(name: str) -> str:
    """The uploader's file name, fit to show and to offer as a download name."""
    base = Path(name.replace("\\", "/")).name.strip() or "document.pdf"
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')[:150]
    return cleaned if cleaned.lower().endswith(".pdf") else cleaned + ".pdf"


def send_evidence(app: Flask, storage_name: str, filename: str) -> Response:
    """A kept document as a download, never cached by a shared cache."""
    response = send_file(
        documents_dir(app) / storage_name,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=filename,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
