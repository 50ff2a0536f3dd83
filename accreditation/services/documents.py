"""Evidence documents: PDFs checked by their structure, kept outside ``static/``."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accreditation.models import DOCUMENT_STATES, Application, EvidenceDocument
from accreditation.services.pdf_check import check_pdf
from core import audit, clock
from core.auth import Actor
from core.errors import Problem

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def documents_dir(app: Flask) -> Path:
    """Outside ``static/``: documents are served only through a checked route."""
    return Path(app.instance_path) / "documents"


def documents_count(session: Session, application_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(EvidenceDocument.application_id == application_id)
        )
        or 0
    )


def store_document(
    app: Flask,
    session: Session,
    actor: Actor,
    application: Application,
    filename: str,
    data: bytes,
) -> EvidenceDocument:
    if application.state not in DOCUMENT_STATES:
        raise Problem(
            409,
            "Not open for documents",
            "Documents can be added to a draft, an "
            "application returned to you, or when a clarification is asked for.",
        )
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Problem(413, "Too large", "A document may be at most 10 MB.")
    check_pdf(data)
    storage_name = secrets.token_hex(16) + ".pdf"
    folder = documents_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / storage_name).write_bytes(data)
    document = EvidenceDocument(
        application_id=application.id,
        filename=_safe_filename(filename),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_name=storage_name,
        uploaded_by_id=actor.id,
        uploaded_at=clock.now(),
    )
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="application.document_added",
        object_type="application",
        object_id=application.id,
        after={"document": document.filename, "sha256": document.sha256},
    )
    session.commit()
    return document


def _safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip() or "document.pdf"
    cleaned = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')[:150]
    return cleaned if cleaned.lower().endswith(".pdf") else cleaned + ".pdf"


def documents(session: Session, application_id: int) -> list[EvidenceDocument]:
    return list(
        session.scalars(
            select(EvidenceDocument)
            .where(EvidenceDocument.application_id == application_id)
            .order_by(EvidenceDocument.id)
        )
    )
