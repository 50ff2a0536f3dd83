"""Certificates issued on passing attempts."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certificates.codes import new_code
from core.db import Base, UTCDateTime, allowed_values, partial_index

if TYPE_CHECKING:
    from accounts.models import User
    from item_bank.programmes import CredentialTerms

# Who may find any certificate and decide on it.
STAFF_ROLES = ("exam_admin", "admin")


class CertificateStatus(StrEnum):
    """What a verifier is told, worked out from the row at the moment of asking."""

    VALID = "valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class RevocationReason(StrEnum):
    MISCONDUCT = "misconduct"
    RESCORING = "rescoring"
    ISSUED_IN_ERROR = "issued_in_error"


REVOCATION_REASONS: dict[str, str] = {
    RevocationReason.MISCONDUCT: "Misconduct",
    RevocationReason.RESCORING: "Result changed on rescoring",
    RevocationReason.ISSUED_IN_ERROR: "Issued in error",
}


class Decision(StrEnum):
    """A staff decision on a certificate."""

    REVOKE = "revoke"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


class LookupMiss(StrEnum):
    """Why a public lookup by code and family name found nothing."""

    TYPO = "typo"  # the code cannot be one: decided from the code alone
    NO_MATCH = "no_match"  # a well-formed code, and no certificate of it with that name


class StatusPurpose(StrEnum):
    """The two published status lists."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


def credential_title(credential: str, level: str) -> str:
    """The credential with its level, said once: "CSM Competency Standard: First Level"."""
    if level.casefold() in credential.casefold():
        return credential
    return f"{credential}: {level}"


class Certificate(Base):
    """One certificate per passing attempt; the holder's name as it stood at issue."""

    __tablename__ = "certificate"
    # The status lists read only the few revoked or suspended certificates.
    __table_args__ = (
        partial_index("ix_certificate_revoked", "id", where="revoked_at IS NOT NULL"),
        partial_index("ix_certificate_suspended", "id", where="suspended_at IS NOT NULL"),
        allowed_values("revocation_reason", RevocationReason, blank=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    # The pass that earned it; none for a certificate renewed by credits, which continues
    # the chain of the one it supersedes (whose attempt it was examined on).
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    holder_given_name: Mapped[str] = mapped_column(String(100))
    holder_family_name: Mapped[str] = mapped_column(String(100))
    credential: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(100))
    blueprint_code: Mapped[str] = mapped_column(String(60))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str] = mapped_column(String(30), default="")
    revocation_note: Mapped[str] = mapped_column(Text, default="")
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    # The programme (in the version in force at issue) whose credential this is; none for
    # a blueprint no programme lists.
    programme_version_id: Mapped[int | None] = mapped_column(ForeignKey("programme_version.id"))
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_note: Mapped[str] = mapped_column(Text, default="")
    # Salts the hash of the holder's email in the signed credential.
    subject_salt: Mapped[str] = mapped_column(String(32))
    reminded_90_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_30_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def holder_name(self) -> str:
        return f"{self.holder_given_name} {self.holder_family_name}"

    @property
    def title(self) -> str:
        return credential_title(self.credential, self.level)


def new_certificate(
    holder: User,
    terms: CredentialTerms,
    blueprint_code: str,
    attempt_id: int | None,
    issued_at: datetime,
    expires_at: datetime,
) -> Certificate:
    """A certificate of ``terms`` for ``holder``, in their name as it stands now, with a
    fresh code and salt: on a pass (``attempt_id``), or on a renewal by credits (none)."""
    return Certificate(
        code=new_code(),
        attempt_id=attempt_id,
        holder_id=holder.id,
        holder_given_name=holder.given_name,
        holder_family_name=holder.family_name,
        credential=terms.credential,
        level=terms.level,
        blueprint_code=blueprint_code,
        programme_version_id=terms.programme_version_id,
        issued_at=issued_at,
        expires_at=expires_at,
        subject_salt=secrets.token_hex(16),
    )


class StatusEntry(Base):
    """A certificate's place in the status lists, drawn at random so neighbours reveal nothing.

    A revocation in the published list is final, as the Bitstring Status List
    specification requires: a reinstated certificate moves to a fresh index and the old
    one (``retired_at`` set) stays revoked for ever, so credentials signed before the
    revocation never verify again.
    """

    __tablename__ = "certificate_status_entry"
    __table_args__ = (
        partial_index(
            "uq_certificate_status_entry_current",
            "certificate_id",
            where="retired_at IS NULL",
            unique=True,
        ),
        partial_index(
            "ix_certificate_status_entry_retired", "list_index", where="retired_at IS NOT NULL"
        ),
    )

    list_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SigningKey(Base):
    """A public key that has signed credentials; published for ever, even after rotation."""

    __tablename__ = "certificate_signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CredentialSubject(Base):
    """The identifier a holder's credentials name as their subject (``credentialSubject.id``
    and the JWT's ``sub``): random, so it reveals nothing about them, and the same on every
    credential they hold, so a wallet can tell they belong together."""

    __tablename__ = "certificate_credential_subject"

    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(45), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CreditState(StrEnum):
    """A continuing-education entry, as staff have judged it."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CreditDecision(StrEnum):
    """Staff's decision on a continuing-education entry."""

    ACCEPT = "accept"
    REJECT = "reject"


class RenewalCredit(Base):
    """An activity a holder logged towards renewing a certificate by credits, with its
    evidence (a PDF kept like accreditation evidence) and staff's review of it."""

    __tablename__ = "certificate_renewal_credit"
    __table_args__ = (allowed_values("state", CreditState),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    activity_on: Mapped[date] = mapped_column(Date)
    credits: Mapped[int] = mapped_column(Integer)
    area: Mapped[str] = mapped_column(String(60))
    evidence_filename: Mapped[str] = mapped_column(String(200))
    evidence_size: Mapped[int] = mapped_column(Integer)
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    evidence_storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default=CreditState.PENDING)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str] = mapped_column(Text, default="")
