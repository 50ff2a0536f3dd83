"""The signed Open Badges 3.0 credential of a certificate and the issuer's profile.

A credential is a VC Data Model 2.0 ``OpenBadgeCredential`` secured twice: an embedded
Data Integrity proof (``eddsa-rdfc-2022``), which wallets and linked-data verifiers
check, and, around the proven credential, a VC-JWT as OB 3.0 specifies it (header
``alg``, ``kid``, ``typ``; claims ``iss``, ``jti``, ``nbf``, ``sub``, ``exp`` and ``vc``).
URLs inside come from ``PUBLIC_BASE_URL`` so a request's Host header can never change
what we sign.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from certificates import data_integrity, jsonld, signing, status_lists
from certificates.chain import examined_attempt_id
from certificates.models import (
    Certificate,
    CertificateStatus,
    CredentialSubject,
    SigningKey,
    StatusPurpose,
)
from certificates.terms import scheme_of
from core import clock
from exam.models import Attempt
from item_bank.models import BlueprintVersion

ISSUER_NAME = "Customer Success Association"
ISSUER_DESCRIPTION = (
    "Publisher of the CSM Competency Standard; certifies Customer Success Managers "
    "against it through proctored examinations."
)
# The status each list's set bit stands for, and what a verifier is told of it.
FLAGGED_BY = {
    StatusPurpose.REVOCATION: CertificateStatus.REVOKED,
    StatusPurpose.SUSPENSION: CertificateStatus.SUSPENDED,
}
FLAGGED_DETAILS = {CertificateStatus.REVOKED: "Revoked.", CertificateStatus.SUSPENDED: "Suspended."}
NOT_FLAGGED = "Neither revoked nor suspended."
SIGNED_CACHE_SIZE = 256

iso = status_lists.iso
issuer_id = signing.issuer_id


# ---- the issuer ------------------------------------------------------------------------


def verification_method_document(app: Flask, key: SigningKey) -> dict[str, Any]:
    """One of the issuer's keys as a controller document lists it: Ed25519 keys as
    ``Multikey``, RSA keys (which sign only JWTs) as ``JsonWebKey``."""
    method: dict[str, Any] = {
        "id": signing.verification_method(app, key.kid),
        "controller": issuer_id(app),
    }
    if signing.algorithm_of(key) == signing.Algorithm.EDDSA:
        method |= {
            "type": "Multikey",
            "publicKeyMultibase": signing.multibase_public_key(key.public_jwk),
        }
    else:
        method |= {"type": "JsonWebKey", "publicKeyJwk": dict(key.public_jwk)}
    return method


def issuer_profile(app: Flask, session: Session) -> dict[str, Any]:
    """The OB 3.0 ``Profile`` of the issuer, which is also the controller document of
    every key that has ever signed for it."""
    signing.publish_all(app)
    base = app.config["PUBLIC_BASE_URL"]
    keys = signing.published_keys(session)
    methods = [verification_method_document(app, key) for key in keys]
    return {
        "@context": [jsonld.VC_CONTEXT, jsonld.OB_CONTEXT, jsonld.CID_CONTEXT],
        "id": issuer_id(app),
        "type": ["Profile"],
        "name": ISSUER_NAME,
        "url": base,
        "description": ISSUER_DESCRIPTION,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


# ---- the subject -----------------------------------------------------------------------


def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def assign_subject_id(session: Session, holder_id: int) -> str:
    """The holder's subject identifier, drawn on their first certificate."""
    known = session.get(CredentialSubject, holder_id)
    if known is not None:
        return known.subject_id
    subject = CredentialSubject(
        holder_id=holder_id, subject_id=f"urn:uuid:{uuid.uuid4()}", created_at=clock.now()
    )
    try:
        with session.begin_nested():
            session.add(subject)
    except IntegrityError:  # a second certificate issued to them at the same moment
        known = session.get(CredentialSubject, holder_id)
        assert known is not None
        return known.subject_id
    return subject.subject_id


def subject_id(session: Session, holder_id: int) -> str:
    known = session.get(CredentialSubject, holder_id)
    if known is None:
        raise RuntimeError(f"holder {holder_id} has no credential subject identifier")
    return known.subject_id


# ---- the credential --------------------------------------------------------------------


def _alignment(app: Flask, spec: dict[str, Any], framework_title: str) -> list[dict[str, Any]]:
    base = app.config["PUBLIC_BASE_URL"]
    return [
        {
            "type": ["Alignment"],
            "targetName": area["title"],
            "targetCode": area["code"],
            "targetFramework": framework_title,
            "targetUrl": f"{base}/framework#{area['code']}",
            "targetType": "ceasn:Competency",
        }
        for area in spec["areas"]
    ]


def credential_id(app: Flask, certificate: Certificate) -> str:
    return f"{app.config['PUBLIC_BASE_URL']}/certificates/{certificate.code}/credential"


def achievement(
    app: Flask, session: Session, certificate: Certificate, spec: dict[str, Any]
) -> dict[str, Any]:
    """The programme's achievement (one per programme, whichever blueprint was sat)."""
    base = app.config["PUBLIC_BASE_URL"]
    name = certificate.title
    scheme = scheme_of(session, certificate.programme_version_id, certificate.blueprint_code, spec)
    return {
        "id": f"{base}/achievements/{scheme.code}",
        "type": ["Achievement"],
        "achievementType": "Certification",
        "name": name,
        "description": scheme.description or f"Certified against the {name} standard.",
        "criteria": {
            "narrative": "Passed the proctored examination drawn to the "
            f"{spec['title']} blueprint, meeting its overall cut score "
            "and the minimum in every competency area."
        },
        "image": {
            "id": f"{base}/achievements/{scheme.code}/badge.svg",
            "type": "Image",
            "caption": f"Badge of the {name}",
        },
        "tag": [scheme.level],
        "alignment": _alignment(app, spec, scheme.framework_title),
    }


@dataclass(frozen=True)
class CertifiedScope:
    """What a certificate certifies: the framework, the level of it, and the areas its
    examination covered (code and title)."""

    framework_code: str
    framework_title: str
    level: str
    areas: list[dict[str, str]]


def certified_scope(session: Session, certificate: Certificate) -> CertifiedScope:
    attempt = session.get(Attempt, examined_attempt_id(session, certificate))
    assert attempt is not None
    version = session.get(BlueprintVersion, attempt.blueprint_version_id)
    assert version is not None
    spec = version.spec
    scheme = scheme_of(session, certificate.programme_version_id, certificate.blueprint_code, spec)
    return CertifiedScope(
        str(spec.get("framework", "")),
        scheme.framework_title,
        scheme.level,
        [{"code": area["code"], "title": area["title"]} for area in spec["areas"]],
    )


def credential_document(app: Flask, session: Session, certificate: Certificate) -> dict[str, Any]:
    """The OpenBadgeCredential, unsecured."""
    holder = session.get(User, certificate.holder_id)
    attempt = session.get(Attempt, examined_attempt_id(session, certificate))
    assert holder is not None and attempt is not None
    version = session.get(BlueprintVersion, attempt.blueprint_version_id)
    assert version is not None
    index = status_lists.current_status_index(session, certificate)
    return {
        "@context": [jsonld.VC_CONTEXT, jsonld.OB_CONTEXT],
        "id": credential_id(app, certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_id(app),
            "type": ["Profile"],
            "name": ISSUER_NAME,
            "url": app.config["PUBLIC_BASE_URL"],
        },
        "name": certificate.title,
        "validFrom": iso(certificate.issued_at),
        "validUntil": iso(certificate.expires_at),
        "credentialSubject": {
            "id": subject_id(session, certificate.holder_id),
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
            "achievement": achievement(app, session, certificate, version.spec),
        },
        "credentialStatus": status_lists.entry_for(app, index),
    }


def jwt_claims(app: Flask, credential: dict[str, Any]) -> dict[str, Any]:
    """The JWT payload: the credential itself (as VC-JOSE-COSE reads it), under ``vc``
    too (as OB 3.0 reads it), and the registered claims each mirrors."""
    valid_from = datetime.fromisoformat(credential["validFrom"])
    valid_until = datetime.fromisoformat(credential["validUntil"])
    return {
        **credential,
        "vc": credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "iat": int(valid_from.timestamp()),
        "nbf": int(valid_from.timestamp()),
        "exp": int(valid_until.timestamp()),
    }


@dataclass(frozen=True)
class SignedCredential:
    document: dict[str, Any]  # with its embedded proof
    token: str  # the VC-JWT


def signed_credential(app: Flask, session: Session, certificate: Certificate) -> SignedCredential:
    """The credential with its proof and as a JWT. Both signatures are deterministic for
    the same content and keys, so a credential is signed once per process and reused
    until anything in it (status index, names, keys) changes."""
    document = credential_document(app, session, certificate)
    proof_key, method = signing.proof_key(app)
    jwt_key = signing.signer(app, signing.jwt_algorithm(app))
    cache_key = hashlib.sha256(
        json.dumps([document, method, jwt_key.kid], sort_keys=True).encode()
    ).hexdigest()
    cache: OrderedDict[str, SignedCredential] = app.extensions.setdefault(
        "csm_signed_credentials", OrderedDict()
    )
    signed = cache.get(cache_key)
    if signed is None:
        proven = data_integrity.with_proof(app, document, proof_key, method, certificate.issued_at)
        signed = SignedCredential(proven, signing.sign_jwt(app, jwt_claims(app, proven)))
        cache[cache_key] = signed
        while len(cache) > SIGNED_CACHE_SIZE:
            cache.popitem(last=False)
    return signed
