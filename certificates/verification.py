"""Checking a credential someone shows us: a VC-JWT, a credential with its embedded
proof, or a badge PNG with the JWT baked in. Each check is reported on its own, and a
failed signature or proof stops there, since nothing else in unsigned content can be
believed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from sqlalchemy.orm import Session

from certificates import baking, data_integrity, services, signing, status_lists
from certificates.credentials import FLAGGED_DETAILS, ISSUER_NAME, NOT_FLAGGED
from certificates.models import Certificate, CertificateStatus, SigningKey, StatusEntry
from core import clock

SUPERSEDED = (
    "This copy was issued before a suspension or revocation that has since been lifted: "
    "ask the holder for their current credential."
)


@dataclass(frozen=True)
class Check:
    passed: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "detail": self.detail}


Checks = dict[str, Check]
# The checks a credential must pass, after its signature or proof, to be verified.
CONTENT_CHECKS = ("issuer", "expiry", "status")


def verdict(checks: Checks) -> dict[str, Any]:
    complete = all(name in checks for name in CONTENT_CHECKS)
    return {
        "verified": complete and all(check.passed for check in checks.values()),
        "checks": {name: check.as_json() for name, check in checks.items()},
    }


# ---- the three ways a credential arrives -----------------------------------------------


def check_jwt(app: Flask, session: Session, token: str) -> Checks:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return {"signature": Check(False, "This is not a compact JWS.")}
    key = session.get(SigningKey, signing.kid_from_header(app, header.get("kid")))
    if key is None or header.get("alg") != signing.algorithm_of(key):
        return {"signature": Check(False, "Not signed by one of our published keys.")}
    try:
        claims = signing.verify_jwt(app, key, token)
    except jwt.InvalidTokenError:
        return {"signature": Check(False, "The signature does not match the content.")}
    checks = {"signature": Check(True, f"Signed with our key {signing.key_url(app, key.kid)}.")}
    credential = claims.get("vc", claims)
    if not isinstance(credential, dict):
        return checks | {"claims": Check(False, "The vc claim is not a credential.")}
    if "vc" in claims:
        checks["claims"] = _check_registered_claims(claims, credential)
    return checks | content_checks(app, session, credential)


def check_document(app: Flask, session: Session, document: dict[str, Any]) -> Checks:
    try:
        method = data_integrity.verify_proof(
            app, document, lambda method: _assertion_key(app, session, method)
        )
    except data_integrity.ProofError as exc:
        return {"proof": Check(False, str(exc))}
    checks = {"proof": Check(True, f"The embedded proof holds, by our key {method}.")}
    return checks | content_checks(app, session, document)


def check_baked_badge(app: Flask, session: Session, png: bytes) -> Checks:
    try:
        token = baking.read_baked(png)
    except baking.BakedBadgeError as exc:
        return {"badge": Check(False, str(exc))}
    return {"badge": Check(True, "The badge carries a credential.")} | check_jwt(
        app, session, token
    )


def _assertion_key(app: Flask, session: Session, method: str) -> Ed25519PublicKey | None:
    prefix = signing.verification_method(app, "")
    if not method.startswith(prefix):
        return None
    key = session.get(SigningKey, method[len(prefix) :][:64])
    if key is None or signing.algorithm_of(key) != signing.Algorithm.EDDSA:
        return None
    return signing.ed25519_public_key(key)


def _check_registered_claims(claims: dict[str, Any], credential: dict[str, Any]) -> Check:
    """OB 3.0: ``iss``, ``sub``, ``jti`` and ``nbf`` must say what the credential says."""
    issuer = credential.get("issuer")
    subject = credential.get("credentialSubject")
    expected = {
        "iss": issuer.get("id") if isinstance(issuer, dict) else issuer,
        "sub": subject.get("id") if isinstance(subject, dict) else None,
        "jti": credential.get("id"),
    }
    for claim, value in expected.items():
        if claims.get(claim) != value:
            return Check(False, f"The {claim} claim does not match the credential.")
    try:
        valid_from = datetime.fromisoformat(str(credential["validFrom"]))
    except (KeyError, ValueError):
        return Check(False, "The credential has no readable validFrom.")
    if claims.get("nbf") != int(valid_from.timestamp()):
        return Check(False, "The nbf claim does not match the credential's validFrom.")
    return Check(True, "The JWT's claims match the credential.")


# ---- what the content says -------------------------------------------------------------


def content_checks(app: Flask, session: Session, credential: dict[str, Any]) -> Checks:
    return {
        "issuer": _check_issuer(app, credential),
        "expiry": _check_expiry(credential),
        "status": _check_status(app, session, credential),
    }


def _check_issuer(app: Flask, credential: dict[str, Any]) -> Check:
    issuer = credential.get("issuer")
    issuer_url = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_url == signing.issuer_id(app):
        return Check(True, f"Issued by {ISSUER_NAME}.")
    return Check(False, "The credential names another issuer.")


def _check_expiry(credential: dict[str, Any]) -> Check:
    try:
        valid_from = datetime.fromisoformat(str(credential["validFrom"]))
        valid_until = datetime.fromisoformat(str(credential["validUntil"]))
    except (KeyError, ValueError):
        return Check(False, "The credential has no readable validity period.")
    now = clock.now()
    if now < valid_from:
        return Check(False, f"Not valid before {clock.format_day(valid_from)}.")
    if now >= valid_until:
        return Check(False, f"Expired on {clock.format_day(valid_until)}.")
    return Check(True, f"Valid until {clock.format_day(valid_until)}.")


def _check_status(app: Flask, session: Session, credential: dict[str, Any]) -> Check:
    """One entry (as we issue now) or a list of them (as we issued before)."""
    entries = credential.get("credentialStatus")
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        return Check(False, "The credential carries no status entry.")
    for entry in entries:
        purpose = entry.get("statusPurpose") if isinstance(entry, dict) else None
        if purpose not in status_lists.STATUS_PURPOSES or entry.get(
            "statusListCredential"
        ) != status_lists.status_list_url(app, purpose):
            return Check(False, "A status entry points at a list we do not publish.")
        try:
            index = int(entry["statusListIndex"])
        except (KeyError, TypeError, ValueError):
            return Check(False, "A status entry has no readable index.")
        if index in status_lists.set_bits(session, purpose):
            return Check(False, _why_flagged(session, index))
    return Check(True, NOT_FLAGGED)


def _why_flagged(session: Session, index: int) -> str:
    entry = session.get(StatusEntry, index)
    certificate = session.get(Certificate, entry.certificate_id) if entry else None
    if certificate is None:
        return FLAGGED_DETAILS[CertificateStatus.REVOKED]
    status = services.status(certificate)
    if entry is not None and entry.retired_at is not None and status not in FLAGGED_DETAILS:
        return SUPERSEDED
    return FLAGGED_DETAILS.get(status, FLAGGED_DETAILS[CertificateStatus.REVOKED])
