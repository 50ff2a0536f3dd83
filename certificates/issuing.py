"""Certificates from grading's result event: a pass issues one (or restores the one a
rescoring revoked), a pass lost on rescoring revokes it. Each handler reports what it did
(``core.events.report``), so a rescoring preview can name the certificates it touches."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from certificates import credentials, status_lists
from certificates.models import (
    REVOCATION_REASONS,
    Certificate,
    CertificateStatus,
    RevocationReason,
    new_certificate,
)
from certificates.services import (
    audit_change,
    clear_revocation,
    get_certificate_of_attempt,
    revoke,
)
from core import audit, clock, events
from core.clock import add_months
from exam.models import Attempt, Outcome
from item_bank.models import BlueprintVersion
from item_bank.programmes import terms_of

RESTORED_ON_RESCORING = "The pass was restored on rescoring."


class Effect:
    """The words this room reports a certificate's fate in."""

    ISSUED = "issued"
    REINSTATED = "reinstated"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    UNTOUCHED = "untouched"


def _report(
    session: Session, attempt_id: int, kind: str, code: str, note: str = "", new: bool = False
) -> None:
    events.report(session, events.Consequence(attempt_id, kind, code, note, provisional=new))


def on_result_changed(session: Session, attempt_id: int, before: str | None, after: str) -> None:
    """Grading's event: a pass issues the certificate; a pass lost on rescoring revokes it.
    Part of grading's unit of work, which commits."""
    if after == Outcome.PASS:
        issue(session, attempt_id)
    elif before == Outcome.PASS:
        certificate = get_certificate_of_attempt(session, attempt_id)
        if certificate is None:
            return
        if certificate.revoked_at is not None:
            why = REVOCATION_REASONS.get(certificate.revocation_reason, "revoked").lower()
            _report(
                session, attempt_id, Effect.UNTOUCHED, certificate.code, f"already revoked: {why}"
            )
            return
        revoke(
            session,
            None,
            certificate,
            RevocationReason.RESCORING,
            f"The result changed to {after} on rescoring.",
        )
        _report(session, attempt_id, Effect.REVOKED, certificate.code)


def issue(session: Session, attempt_id: int) -> Certificate:
    """Exactly one certificate per passing attempt, whatever races; a new pass supersedes
    the holder's earlier certificates for the same credential."""
    existing = get_certificate_of_attempt(session, attempt_id)
    if existing is not None:
        if existing.revoked_at is not None and _revoked_by_rescoring(session, existing):
            clear_revocation(session, existing)
            restored = {"was": CertificateStatus.REVOKED, "note": RESTORED_ON_RESCORING}
            audit_change(session, None, existing, "certificate.reinstated", restored)
            _report(session, attempt_id, Effect.REINSTATED, existing.code)
        elif existing.revoked_at is not None:
            why = REVOCATION_REASONS.get(existing.revocation_reason, "revoked").lower()
            _report(session, attempt_id, Effect.UNTOUCHED, existing.code, f"stays revoked: {why}")
        return existing
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    holder = session.get(User, attempt.candidate_id)
    version = session.get(BlueprintVersion, attempt.blueprint_version_id)
    assert holder is not None and version is not None
    now = clock.now()
    terms = terms_of(session, version)
    certificate = new_certificate(
        holder,
        terms,
        version.blueprint.code,
        attempt_id,
        now,
        add_months(now, terms.validity_months),
    )
    try:
        with session.begin_nested():
            session.add(certificate)
    except IntegrityError:  # the same pass was recorded twice at once
        return session.scalars(
            select(Certificate).where(Certificate.attempt_id == attempt_id)
        ).one()
    status_lists.assign_status_index(session, certificate)
    credentials.assign_subject_id(session, certificate.holder_id)
    _report(session, attempt_id, Effect.ISSUED, certificate.code, new=True)
    for older in session.scalars(
        select(Certificate).where(
            Certificate.holder_id == holder.id,
            Certificate.blueprint_code == certificate.blueprint_code,
            Certificate.id != certificate.id,
            Certificate.superseded_by_id.is_(None),
        )
    ):
        older.superseded_by_id = certificate.id
        _report(session, attempt_id, Effect.SUPERSEDED, older.code, "by the new certificate")
    audit_change(session, None, certificate, "certificate.issued", {"attempt": attempt_id})
    return certificate


def _revoked_by_rescoring(session: Session, certificate: Certificate) -> bool:
    """Only a revocation grading made undoes itself; one a person made stands."""
    last = audit.last_event(session, "certificate", certificate.code, ["certificate.revoked"])
    return last is not None and last.actor_id is None
