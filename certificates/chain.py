"""A certificate's chain: the certificates one renewal (or a new pass) continues.

Each renewal marks the certificate it continues ``superseded_by`` the new one, so the chain
is read backwards through ``superseded_by_id``. A certificate renewed by credits has no
attempt of its own: what it certifies is what the first certificate of its chain was
examined on.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates.models import Certificate

# Far more renewals than any holder will ever make: a guard against a cycle, not a limit.
MAX_CHAIN = 100


def earlier(session: Session, certificate: Certificate) -> list[Certificate]:
    """The certificates this one continues, newest first."""
    found: list[Certificate] = []
    wanted = [certificate.id]
    while wanted and len(found) < MAX_CHAIN:
        rows = list(
            session.scalars(
                select(Certificate)
                .where(Certificate.superseded_by_id.in_(wanted))
                .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
            )
        )
        found.extend(rows)
        wanted = [row.id for row in rows]
    return found


def successor(session: Session, certificate: Certificate) -> Certificate | None:
    """The newer certificate that supersedes this one, if any."""
    if certificate.superseded_by_id is None:
        return None
    return session.get(Certificate, certificate.superseded_by_id)


def examined_attempt_id(session: Session, certificate: Certificate) -> int:
    """The attempt whose pass this certificate (or the one it was renewed from) records."""
    if certificate.attempt_id is not None:
        return certificate.attempt_id
    for older in earlier(session, certificate):
        if older.attempt_id is not None:
            return older.attempt_id
    raise LookupError(f"Certificate {certificate.code} has no examined attempt in its chain.")
