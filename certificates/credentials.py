"""The signed Open Badges 3.0 credential of a certificate, the issuer profile, and the
Bitstring Status Lists that revoke or suspend credentials already handed out.

Credentials follow the VC Data Model 2.0 and are secured as VC-JWT (a compact JWS,
``alg`` EdDSA, ``kid`` the key's RFC 7638 thumbprint). URLs inside them come from
``PUBLIC_BASE_URL`` so a request's Host header can never change what we sign.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from flask import Flask
from sqlalchemy import select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from certificates import signing
from certificates.models import (
    Certificate,
    CertificateStatus,
    SigningKey,
    StatusEntry,
    StatusPurpose,
)
from core import clock
from exam.models import Attempt
from item_bank.models import BlueprintVersion

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ISSUER_NAME = "Customer Success Association"
ISSUER_DESCRIPTION = (
    "Publisher of the CSM Competency Standard; certifies Customer Success Managers "
    "against it through proctored examinations."
)
STATUS_LIST_SIZE = 131_072  # the specification's minimum: 16 KiB of bits
STATUS_PURPOSES = tuple(StatusPurpose)
# The status each list's set bit stands for, and what a verifier is told of it.
FLAGGED_BY = {
    StatusPurpose.REVOCATION: CertificateStatus.REVOKED,
    StatusPurpose.SUSPENSION: CertificateStatus.SUSPENDED,
}
FLAGGED_DETAILS = {CertificateStatus.REVOKED: "Revoked.", CertificateStatus.SUSPENDED: "Suspended."}
NOT_FLAGGED = "Neither revoked nor suspended."
STATUS_TTL_SECONDS = 300
CREDENTIAL_TYP = "vc+jwt"


def _iso(moment: datetime) -> str:
    return clock.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer_id(app: Flask) -> str:
    return f"{app.config['PUBLIC_BASE_URL']}/issuer"


def issuer_profile(app: Flask) -> dict[str, Any]:
    base = app.config["PUBLIC_BASE_URL"]
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": issuer_id(app),
        "type": ["Profile"],
        "name": ISSUER_NAME,
        "url": base,
        "description": ISSUER_DESCRIPTION,
        "publicKeys": f"{base}/.well-known/jwks.json",
    }


# ---- status entries --------------------------------------------------------------------


def assign_status_index(session: Session, certificate: Certificate) -> int:
    """A random free index: an observer can tell nothing from a credential's position."""
    draw = random.SystemRandom()
    for _ in range(64):
        index = draw.randrange(STATUS_LIST_SIZE)
        if session.get(StatusEntry, index) is not None:
            continue
        try:
            with session.begin_nested():
                session.add(
                    StatusEntry(
                        list_index=index, certificate_id=certificate.id, assigned_at=clock.now()
                    )
                )
            return index
        except IntegrityError:  # drawn by another issue at the same moment
            continue
    raise RuntimeError("the status list is too full to draw a free index; enlarge it")


def current_status_index(session: Session, certificate: Certificate) -> int:
    """A read: every certificate holds an index from its issue (or its reinstatement, or
    the migration that brought status lists to the certificates issued before them)."""
    index = session.scalar(
        select(StatusEntry.list_index).where(
            StatusEntry.certificate_id == certificate.id, StatusEntry.retired_at.is_(None)
        )
    )
    if index is None:
        raise RuntimeError(f"certificate {certificate.code} has no status index")
    return index


def retire_status_index(session: Session, certificate: Certificate) -> None:
    """Leave the revoked index revoked for ever and give the certificate a new one."""
    for entry in session.scalars(
        select(StatusEntry).where(
            StatusEntry.certificate_id == certificate.id, StatusEntry.retired_at.is_(None)
        )
    ):
        entry.retired_at = clock.now()
    session.flush()
    assign_status_index(session, certificate)


def set_bits(session: Session, purpose: str) -> list[int]:
    """The indices whose bit is set in the list for ``purpose``; each branch reads only
    the few flagged rows through a partial index."""
    current = (
        select(StatusEntry.list_index)
        .join(Certificate, Certificate.id == StatusEntry.certificate_id)
        .where(StatusEntry.retired_at.is_(None))
    )
    if purpose == StatusPurpose.SUSPENSION:
        return list(session.scalars(current.where(Certificate.suspended_at.is_not(None))))
    retired = select(StatusEntry.list_index).where(StatusEntry.retired_at.is_not(None))
    revoked = current.where(Certificate.revoked_at.is_not(None))
    return list(session.scalars(union_all(retired, revoked)))


def encode_bits(indices: list[int], size: int = STATUS_LIST_SIZE) -> str:
    """GZIP, then base64url without padding, with the multibase prefix ``u``;
    index 0 is the left-most (most significant) bit of the first byte."""
    bits = bytearray(size // 8)
    for index in indices:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def status_list_url(app: Flask, purpose: str) -> str:
    return f"{app.config['PUBLIC_BASE_URL']}/status/{purpose}"


def status_list_claims(
    app: Flask, purpose: str, set_indices: list[int], issued: datetime
) -> dict[str, Any]:
    url = status_list_url(app, purpose)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(app),
        "validFrom": _iso(issued),
        "validUntil": _iso(issued + timedelta(days=1)),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_bits(set_indices),
            "ttl": STATUS_TTL_SECONDS * 1000,
        },
        "iss": issuer_id(app),
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(days=1)).timestamp()),
    }


def signed_status_list(app: Flask, session: Session, purpose: str) -> str:
    """The list as it stands now, signed. The set bits are read on every call, so a
    revocation is published at once; the signed list is reused (per process) while the
    bits and the ttl window are unchanged, since signing and compressing 16 KiB per
    request would cost more than everything else on the route."""
    set_indices = sorted(set_bits(session, purpose))
    now = clock.now()
    window = int(now.timestamp()) // STATUS_TTL_SECONDS * STATUS_TTL_SECONDS
    key = (purpose, window, signing.signer(app).kid, tuple(set_indices))
    cache: dict[str, tuple[tuple[object, ...], str]] = app.extensions.setdefault(
        "csm_status_lists", {}
    )
    cached = cache.get(purpose)
    if cached is not None and cached[0] == key:
        return cached[1]
    issued = datetime.fromtimestamp(window, tz=now.tzinfo)
    token = signing.sign(app, status_list_claims(app, purpose, set_indices, issued), CREDENTIAL_TYP)
    cache[purpose] = (key, token)
    return token


# ---- the credential --------------------------------------------------------------------


def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def _alignment(app: Flask, spec: dict[str, Any]) -> list[dict[str, Any]]:
    base = app.config["PUBLIC_BASE_URL"]
    return [
        {
            "type": ["Alignment"],
            "targetName": area["title"],
            "targetCode": area["code"],
            "targetFramework": "CSM Competency Standard: First Level"
            if spec.get("framework") == "csa-first-level"
            else spec.get("framework", ""),
            "targetUrl": f"{base}/framework#{area['code']}",
            "targetType": "ceasn:Competency",
        }
        for area in spec["areas"]
    ]


def credential_id(app: Flask, certificate: Certificate) -> str:
    return f"{app.config['PUBLIC_BASE_URL']}/certificates/{certificate.code}/credential"


def credential_claims(app: Flask, session: Session, certificate: Certificate) -> dict[str, Any]:
    """The OpenBadgeCredential, with the registered JWT claims a JOSE library checks."""
    holder = session.get(User, certificate.holder_id)
    attempt = session.get(Attempt, certificate.attempt_id)
    assert holder is not None and attempt is not None
    version = session.get(BlueprintVersion, attempt.blueprint_version_id)
    assert version is not None
    base = app.config["PUBLIC_BASE_URL"]
    index = current_status_index(session, certificate)
    name = certificate.title
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id(app, certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(app), "type": ["Profile"], "name": ISSUER_NAME, "url": base},
        "name": name,
        "validFrom": _iso(certificate.issued_at),
        "validUntil": _iso(certificate.expires_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": identity_hash(holder.email, certificate.subject_salt),
                    "salt": certificate.subject_salt,
                },
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.holder_name,
                },
            ],
            "achievement": {
                "id": f"{base}/achievements/{certificate.blueprint_code}",
                "type": ["Achievement"],
                "achievementType": "Certification",
                "name": name,
                "description": f"Certified against the {name} standard.",
                "criteria": {
                    "narrative": "Passed the proctored examination drawn to the "
                    f"{version.spec['title']} blueprint, meeting its overall cut score "
                    "and the minimum in every competency area."
                },
                "alignment": _alignment(app, version.spec),
            },
        },
        "credentialStatus": [
            {
                "id": f"{status_list_url(app, purpose)}#{index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(index),
                "statusListCredential": status_list_url(app, purpose),
            }
            for purpose in STATUS_PURPOSES
        ],
        "iss": issuer_id(app),
        "jti": credential_id(app, certificate),
        "iat": int(certificate.issued_at.timestamp()),
        "nbf": int(certificate.issued_at.timestamp()),
        "exp": int(certificate.expires_at.timestamp()),
    }


@dataclass(frozen=True)
class SignedCredential:
    claims: dict[str, Any]
    token: str


def signed_credential(app: Flask, session: Session, certificate: Certificate) -> SignedCredential:
    claims = credential_claims(app, session, certificate)
    return SignedCredential(claims, signing.sign(app, claims, CREDENTIAL_TYP))


# ---- checking a credential someone shows us -------------------------------------------


@dataclass(frozen=True)
class Check:
    passed: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "detail": self.detail}


def check_credential(app: Flask, session: Session, token: str) -> dict[str, Check]:
    """Each check on its own: signature, issuer, expiry, status. A failed signature
    stops there, since nothing else in an unsigned payload can be believed."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return {"signature": Check(False, "This is not a compact JWS.")}
    key = session.get(SigningKey, str(header.get("kid", ""))[:64])
    if key is None or header.get("alg") != signing.ALGORITHM:
        return {"signature": Check(False, "Not signed by one of our published keys.")}
    try:
        claims = jwt.decode(
            token,
            jwt.PyJWK({**key.public_jwk, "alg": signing.ALGORITHM}).key,
            algorithms=[signing.ALGORITHM],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidTokenError:
        return {"signature": Check(False, "The signature does not match the content.")}
    return {
        "signature": Check(True, f"Signed with our key {key.kid}."),
        "issuer": _check_issuer(app, claims),
        "expiry": _check_expiry(claims),
        "status": _check_status(app, session, claims),
    }


def _check_issuer(app: Flask, claims: dict[str, Any]) -> Check:
    issuer = claims.get("issuer")
    issuer_url = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_url == issuer_id(app):
        return Check(True, f"Issued by {ISSUER_NAME}.")
    return Check(False, "The credential names another issuer.")


def _check_expiry(claims: dict[str, Any]) -> Check:
    try:
        valid_from = datetime.fromisoformat(str(claims["validFrom"]))
        valid_until = datetime.fromisoformat(str(claims["validUntil"]))
    except (KeyError, ValueError):
        return Check(False, "The credential has no readable validity period.")
    now = clock.now()
    if now < valid_from:
        return Check(False, f"Not valid before {clock.format_day(valid_from)}.")
    if now >= valid_until:
        return Check(False, f"Expired on {clock.format_day(valid_until)}.")
    return Check(True, f"Valid until {clock.format_day(valid_until)}.")


def _check_status(app: Flask, session: Session, claims: dict[str, Any]) -> Check:
    entries = claims.get("credentialStatus")
    if not isinstance(entries, list) or not entries:
        return Check(False, "The credential carries no status entry.")
    for entry in entries:
        purpose = entry.get("statusPurpose") if isinstance(entry, dict) else None
        if purpose not in STATUS_PURPOSES or entry.get("statusListCredential") != status_list_url(
            app, purpose
        ):
            return Check(False, "A status entry points at a list we do not publish.")
        try:
            index = int(entry["statusListIndex"])
        except (KeyError, TypeError, ValueError):
            return Check(False, "A status entry has no readable index.")
        if index in set_bits(session, purpose):
            return Check(False, FLAGGED_DETAILS[FLAGGED_BY[StatusPurpose(purpose)]])
    return Check(True, NOT_FLAGGED)
