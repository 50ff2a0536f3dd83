"""The certificates room's JSON bodies as models: what the API takes and what it sends.
The OpenAPI document is built from them, so it says what the code does."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from certificates.models import CertificateStatus, LookupMiss, RevocationReason
from core.api import ApiModel, ResponseModel

NOTE_MAX = 2000  # a staff decision's note for the record


# ---- public verification -------------------------------------------------------------


class Check(ResponseModel):
    passed: bool
    detail: str


class CredentialVerdict(ResponseModel):
    """A credential someone showed us, each check on its own."""

    verified: bool
    checks: dict[str, Check] = Field(
        description="badge, signature or proof, claims, issuer, expiry, status: those that ran"
    )


class VerifiedCertificate(ResponseModel):
    """What anyone checking a certificate is told: never an email or a score."""

    code: str
    holder: str
    credential: str
    level: str
    issued_on: date
    expires_on: date
    status: CertificateStatus
    superseded: bool
    issuer: str
    checks: dict[str, Check] = Field(description="issuer, status, expiry (and signature)")
    revoked_on: date | None = Field(default=None, description="Only when revoked")
    revocation_reason: str | None = Field(default=None, description="Only when revoked")


class VerifyResult(ResponseModel):
    """One pair of a batch: the certificate, or why there is none."""

    code: str
    found: bool
    certificate: VerifiedCertificate | None = Field(default=None, description="When found")
    reason: LookupMiss | None = Field(
        default=None,
        description="When not found: typo (the code's check character fails, decided from "
        "the code alone) or no_match",
    )
    message: str | None = Field(default=None, description="When not found, in words")


class VerifyResults(ResponseModel):
    results: list[VerifyResult]


# ---- holders and staff -----------------------------------------------------------------


class CertificateQuery(BaseModel):
    """``GET /certificates``: a page of the caller's certificates (staff: anyone's)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    holder: str = Field(
        default="",
        max_length=254,
        description="Staff only: the holder's user id or email (anyone else may name only "
        "themselves)",
    )
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=25, ge=1, le=100)


def _said(note: str) -> str:
    if not note:
        raise PydanticCustomError("note_required", "Say what happened and on whose decision.")
    return note


# Why staff decide as they do; kept in the audit trail, never shown to the public.
Note = Annotated[
    str,
    Field(max_length=NOTE_MAX, json_schema_extra={"minLength": 1}),
    AfterValidator(_said),
]


class RevocationRequest(ApiModel):
    """A revocation's fields, as ``services.decide`` checks them for every face."""

    reason: RevocationReason = Field(description="Shown on the public page; the note is not")
    note: Note


class NoteRequest(ApiModel):
    """Suspend or reinstate: the note says why."""

    note: Note


class CreditRequest(ApiModel):
    """A continuing-education activity logged towards renewing a certificate by credits."""

    title: str = Field(min_length=1, max_length=200, description="What the activity was")
    provider: str = Field(min_length=1, max_length=200, description="Who ran it")
    activity_on: date = Field(description="When it took place (its last day)")
    credits: int = Field(ge=1, le=100, description="Credits claimed: one per hour")
    area: str = Field(min_length=1, max_length=60, description="A framework part it counts in")


class CertificateLinks(ResponseModel):
    page: str = Field(description="The holder's page: QR code, share link, LinkedIn")
    verify: str = Field(description="The signed public verification link (the QR code's)")
    credential_jwt: str = Field(description="The signed Open Badges 3.0 credential, VC-JWT")
    credential_json: str = Field(description="The credential with its embedded proof")
    badge_png: str = Field(description="The badge image with the credential baked in")
    pdf: str


class HeldCertificate(ResponseModel):
    """A certificate as its holder and staff see it (never the staff's notes)."""

    code: str
    title: str = Field(description="The credential with its level, said once")
    credential: str
    level: str
    holder_id: int
    holder: str
    status: CertificateStatus
    issued_on: date
    expires_on: date
    revoked_on: date | None
    revocation_reason: RevocationReason | None
    suspended_on: date | None
    superseded: bool = Field(description="A newer certificate of the same credential exists")
    links: CertificateLinks


class CertificatePage(ResponseModel):
    total: int
    page: int
    pages: int
    certificates: list[HeldCertificate]


OPENAPI_MODELS = (
    CredentialVerdict,
    VerifiedCertificate,
    VerifyResults,
    RevocationRequest,
    NoteRequest,
    HeldCertificate,
    CertificatePage,
)
