"""What a holder holds, told to the exam room for its prerequisites (registered at
wiring, so the exam room never imports certificates)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from certificates.services import holder_certificates, status
from exam.services.ladder import HeldCredential


def held_credentials(session: Session, holder_id: int) -> list[HeldCredential]:
    """For the exam room's prerequisites: what the holder holds, and its standing now."""
    return [
        HeldCredential(
            blueprint_code=certificate.blueprint_code,
            status=status(certificate),
            issued_at=certificate.issued_at,
            expires_at=certificate.expires_at,
            changed_at=certificate.revoked_at or certificate.suspended_at,
        )
        for certificate in holder_certificates(session, holder_id)
    ]
