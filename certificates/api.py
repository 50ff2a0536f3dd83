"""Public JSON verification: one certificate by code and family name, a batch, a link."""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from pydantic import Field, model_validator
from sqlalchemy.orm import Session

from certificates import documents, services, verification
from certificates.credentials import FLAGGED_DETAILS, ISSUER_NAME, NOT_FLAGGED
from certificates.limits import BATCH_MAX, lookup_budget
from certificates.models import (
    REVOCATION_REASONS,
    Certificate,
    CertificateStatus,
    Decision,
    LookupMiss,
    RevocationReason,
)
from certificates.schemas import (
    CertificateLinks,
    CertificatePage,
    CertificateQuery,
    Check,
    CredentialVerdict,
    HeldCertificate,
    NoteRequest,
    RevocationRequest,
    VerifiedCertificate,
    VerifyResult,
    VerifyResults,
)
from core import clock
from core.api import (
    ApiModel,
    json_body,
    make_api_blueprint,
    model_response,
    parse_json,
    problem_responses,
    respond,
    validated,
)
from core.auth import current_actor, roles_required
from core.db import get_session
from core.errors import FieldError, Problem
from core.extensions import limiter
from core.web import memoised
from exam.responses import ResultCertificate

api = make_api_blueprint("certificates_api", __name__)
BADGE_UPLOAD_MAX = 4 * 1024 * 1024  # base64 characters: a badge PNG of about 3 MB
CREDENTIAL_MAX = 60_000  # characters; ours are under 12,000
links = Blueprint("certificate_links", __name__)


class VerifyPair(ApiModel):
    code: str = Field(min_length=1, max_length=40)
    family_name: str = Field(min_length=1, max_length=100)


class VerifyBatch(ApiModel):
    certificates: list[VerifyPair] = Field(min_length=1, max_length=BATCH_MAX)


class CredentialToCheck(ApiModel):
    """One of: a VC-JWT, a credential with its embedded proof, or a baked badge PNG."""

    credential: str | dict[str, Any] | None = Field(
        default=None,
        description="A VC-JWT we issued (a string), or the JSON-LD credential with its proof",
    )
    badge_png: str | None = Field(
        default=None,
        max_length=BADGE_UPLOAD_MAX,
        description="A badge PNG with the credential baked in, base64-encoded",
    )

    @model_validator(mode="after")
    def exactly_one(self) -> CredentialToCheck:
        if (self.credential is None) == (self.badge_png is None):
            raise ValueError("Send exactly one of credential and badge_png.")
        if isinstance(self.credential, str) and not 0 < len(self.credential) <= CREDENTIAL_MAX:
            raise ValueError("A VC-JWT is between 1 and 60,000 characters.")
        if isinstance(self.credential, dict) and len(json.dumps(self.credential)) > CREDENTIAL_MAX:
            raise ValueError("A credential is at most 60,000 characters of JSON.")
        return self


def _checks(certificate: Certificate, status: CertificateStatus) -> dict[str, Check]:
    """The page's verdict split into the checks an employer's system may want to see."""
    return {
        "issuer": Check(passed=True, detail=f"Issued by {ISSUER_NAME}."),
        "status": Check(
            passed=status not in FLAGGED_DETAILS, detail=FLAGGED_DETAILS.get(status, NOT_FLAGGED)
        ),
        "expiry": Check(
            passed=status != CertificateStatus.EXPIRED,
            detail=f"Valid until {clock.format_day(certificate.expires_at)}.",
        ),
    }


def verified(certificate: Certificate) -> VerifiedCertificate:
    status = services.status(certificate)
    revoked = status == CertificateStatus.REVOKED and certificate.revoked_at is not None
    return VerifiedCertificate(
        code=certificate.code,
        holder=certificate.holder_name,
        credential=certificate.credential,
        level=certificate.level,
        issued_on=certificate.issued_at.date(),
        expires_on=certificate.expires_at.date(),
        status=status,
        superseded=certificate.superseded_by_id is not None,
        issuer=ISSUER_NAME,
        checks=_checks(certificate, status),
        revoked_on=certificate.revoked_at.date() if revoked and certificate.revoked_at else None,
        revocation_reason=REVOCATION_REASONS[certificate.revocation_reason] if revoked else None,
    )


def certificate_json(certificate: Certificate) -> dict[str, Any]:
    """The public answer about a certificate; what only a revoked one has is left out."""
    return verified(certificate).model_dump(mode="json", exclude_none=True)


def lookup_miss(miss: LookupMiss) -> Problem:
    """A typo is a 422 on the code, a miss a 404; ``reason`` tells them apart."""
    message = services.MISS_MESSAGES[miss]
    if miss == LookupMiss.TYPO:
        return Problem(
            422,
            "The code has a typo",
            message,
            errors=[FieldError("code", message)],
            slug="certificate-code-typo",
            extra={"reason": miss},
        )
    return Problem(404, "No matching certificate", message, extra={"reason": miss})


@api.get("/certificates/<code>")
@limiter.limit("10 per minute")
@lookup_budget
def one(code: str) -> Any:
    found = services.look_up(get_session(), code[:40], request.args.get("family_name", "")[:100])
    if isinstance(found, LookupMiss):
        raise lookup_miss(found)
    return jsonify(certificate_json(found))


def _pair_result(pair: VerifyPair) -> VerifyResult:
    found = services.look_up(get_session(), pair.code, pair.family_name)
    if isinstance(found, LookupMiss):
        return VerifyResult(
            code=pair.code, found=False, reason=found, message=services.MISS_MESSAGES[found]
        )
    return VerifyResult(code=pair.code, found=True, certificate=verified(found))


@api.post("/certificates/verify-batch")
@limiter.limit("10 per minute")
@lookup_budget
def batch() -> Any:
    body = parse_json(VerifyBatch)
    results = VerifyResults(results=[_pair_result(pair) for pair in body.certificates])
    return jsonify(results.model_dump(mode="json", exclude_none=True))


# ---- holders and staff ---------------------------------------------------------------


def _public_url(endpoint: str, code: str) -> str:
    """A certificate's address as the public reaches it (never from the Host header)."""
    return current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint, code=code)


def held(certificate: Certificate) -> HeldCertificate:
    code = certificate.code
    status = services.status(certificate)
    return HeldCertificate(
        code=code,
        title=certificate.title,
        credential=certificate.credential,
        level=certificate.level,
        holder_id=certificate.holder_id,
        holder=certificate.holder_name,
        status=status,
        issued_on=certificate.issued_at.date(),
        expires_on=certificate.expires_at.date(),
        revoked_on=certificate.revoked_at.date() if certificate.revoked_at else None,
        revocation_reason=RevocationReason(certificate.revocation_reason)
        if certificate.revoked_at
        else None,
        suspended_on=certificate.suspended_at.date() if certificate.suspended_at else None,
        superseded=certificate.superseded_by_id is not None,
        links=CertificateLinks(
            page=_public_url("certificates.detail", code),
            verify=documents.verify_url(current_app, certificate),
            credential_jwt=_public_url("credentials.credential_jwt", code),
            credential_json=_public_url("credentials.credential_json", code),
            badge_png=_public_url("credentials.baked_badge", code),
            pdf=_public_url("certificates.pdf", code),
        ),
    )


@api.get("/certificates")
@roles_required()
def list_certificates() -> Any:
    """The caller's certificates; staff see anyone's, or one holder's."""
    query = validated(CertificateQuery, request.args)
    page = services.list_certificates(
        get_session(), current_actor(), query.holder, query.page, query.per_page
    )
    body = CertificatePage(
        total=page.total,
        page=page.page,
        pages=page.pages,
        certificates=[held(certificate) for certificate in page.rows],
    )
    return jsonify(body.model_dump(mode="json"))


def _decided(code: str, decision: Decision, note: str, reason: str = "") -> Any:
    """Through the same service as the staff page's forms: its rules, lock and audit."""
    certificate = services.decide(get_session(), current_actor(), code[:40], decision, note, reason)
    return jsonify(held(certificate).model_dump(mode="json"))


# Signed-in callers reach the service, which answers 404 for a certificate they may not
# see (as for one that does not exist) and 403 to its holder: only staff decide.
@api.post("/certificates/<code>/revocation")
@roles_required()
def revocation(code: str) -> Any:
    body = parse_json(RevocationRequest)
    return _decided(code, Decision.REVOKE, body.note, body.reason)


@api.post("/certificates/<code>/suspension")
@roles_required()
def suspension(code: str) -> Any:
    return _decided(code, Decision.SUSPEND, parse_json(NoteRequest).note)


@api.post("/certificates/<code>/reinstatement")
@roles_required()
def reinstatement(code: str) -> Any:
    return _decided(code, Decision.REINSTATE, parse_json(NoteRequest).note)


def attempt_certificate(session: Session, attempt_id: int) -> ResultCertificate | None:
    """For the exam room's result: the certificate the attempt produced."""
    certificate = services.get_certificate_of_attempt(session, attempt_id)
    if certificate is None:
        return None
    return ResultCertificate(
        code=certificate.code,
        url=_public_url("certificates.detail", certificate.code),
        status=services.status(certificate),
    )


@links.get("/verify/<token>.json")
@limiter.exempt  # a signed link cannot be guessed
def link_json(token: str) -> Any:
    g.wants_problem_json = True
    certificate = services.get_certificate_by_token(get_session(), token[:200])
    if certificate is None:
        raise Problem(400, "This link is not genuine", "The link was changed or cut short.")

    def body() -> bytes:
        answer = certificate_json(certificate)
        answer["checks"]["signature"] = {"passed": True, "detail": "The link is signed by us."}
        return current_app.json.dumps(answer).encode()

    key = (services.state_key(certificate), services.status(certificate))
    return current_app.response_class(
        memoised(current_app, "verified_json", key, body), mimetype="application/json"
    )


@api.post("/credentials/verify")
@limiter.limit("60 per minute")
def verify_credential() -> Any:
    """Check a signed credential we issued: each check reported on its own."""
    body = parse_json(CredentialToCheck)
    session = get_session()
    if body.badge_png is not None:
        try:
            png = base64.b64decode(body.badge_png, validate=True)
        except ValueError:
            raise Problem(
                422,
                "Invalid body",
                "badge_png is not base64.",
                errors=[FieldError("badge_png", "Not base64.")],
            ) from None
        checks = verification.check_baked_badge(current_app, session, png)
    elif isinstance(body.credential, dict):
        checks = verification.check_document(current_app, session, body.credential)
    else:
        checks = verification.check_jwt(current_app, session, str(body.credential).strip())
    return respond(CredentialVerdict.model_validate(verification.verdict(checks)))


OPENAPI_MODELS = (VerifyPair, VerifyBatch, CredentialToCheck)
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/certificates/{code}": {
        "get": {
            "summary": "Verify one certificate by code and family name (public, rate-limited)",
            "operationId": "verifyCertificate",
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "family_name",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
            "description": "A code whose check character fails is a 422 with `reason` "
            "`typo`, decided from the code alone; any other miss a 404 with `reason` "
            "`no_match`, the same whether the code exists or not.",
            "responses": {
                "200": model_response("The certificate", VerifiedCertificate),
                **problem_responses(404, 422, 429),
            },
        }
    },
    "/credentials/verify": {
        "post": {
            "summary": "Check a credential: signature or proof, issuer, expiry and status",
            "operationId": "verifyCredential",
            "requestBody": json_body(CredentialToCheck),
            "responses": {
                "200": model_response("Each check with its result", CredentialVerdict),
                **problem_responses(400, 415, 422, 429),
            },
        }
    },
    "/certificates/verify-batch": {
        "post": {
            "summary": "Verify up to 100 code and family-name pairs (public, rate-limited)",
            "operationId": "verifyCertificates",
            "requestBody": json_body(VerifyBatch),
            "responses": {
                "200": model_response("One result per pair", VerifyResults),
                **problem_responses(400, 415, 422, 429),
            },
        }
    },
    "/certificates": {
        "get": {
            "summary": "Your certificates, newest first (staff: anyone's, or one holder's)",
            "operationId": "listCertificates",
            "parameters": [
                {"name": name, "in": "query", "schema": schema}
                for name, schema in CertificateQuery.model_json_schema()["properties"].items()
            ],
            "responses": {
                "200": model_response("A page of certificates", CertificatePage),
                **problem_responses(401, 403, 422),
            },
        }
    },
    **{
        f"/certificates/{{code}}/{step}": {
            "post": {
                "summary": summary,
                "operationId": operation_id,
                "description": "Staff only, with the rules, row lock and audit of the staff "
                "page's forms. 409 when the decision does not fit the certificate's status.",
                "parameters": [
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": json_body(model),
                "responses": {
                    "200": model_response("The certificate as it now stands", HeldCertificate),
                    **problem_responses(401, 403, 404, 409, 415, 422),
                },
            }
        }
        for step, operation_id, summary, model in (
            ("revocation", "revokeCertificate", "Revoke a certificate", RevocationRequest),
            ("suspension", "suspendCertificate", "Suspend a certificate", NoteRequest),
            ("reinstatement", "reinstateCertificate", "Reinstate a certificate", NoteRequest),
        )
    },
}
