"""The certificates room's JSON bodies as models: what the API takes and what it sends.
The OpenAPI document is built from them, so it says what the code does."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from certificates.models import CertificateStatus
from certificates.services import LookupMiss


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- public verification -------------------------------------------------------------


class Check(ResponseModel):
    passed: bool
    detail: str


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


OPENAPI_MODELS = (VerifiedCertificate, VerifyResults)
