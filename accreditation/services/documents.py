"""Evidence documents: PDFs checked by their structure, kept outside ``static/``."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accreditation.models import DOCUMENT_STATES, Application, EvidenceDocument
from core import audit, clock
from core.auth import Actor
from core.errors import Problem
from core.evidence import safe_filename, store_pdf


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
    stored = store_pdf(app, data)
    document = EvidenceDocument(
        application_id=application.id,
        filename=safe_filename(filename),
        size=stored.size,
        sha256=stored.sha256,
        storage_name=stored.storage_name,
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


def documents(session: Session, application_id: int) -> list[EvidenceDocument]:
    return list(
        session.scalars(
            select(EvidenceDocument)
            .where(EvidenceDocument.application_id == application_id)
            .order_by(EvidenceDocument.id)
        )
    )
