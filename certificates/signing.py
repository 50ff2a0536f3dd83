"""The keys that sign credentials, and the public keys that verify them.

Two kinds of key, each loaded from configuration (PEM) or generated into ``instance/`` on
first use: RSA for VC-JWT with ``RS256``, the algorithm Open Badges 3.0 requires every
verifier to support, and Ed25519, which signs the embedded Data Integrity proof
(``eddsa-rdfc-2022``) and, if configured, the JWT too (``EdDSA``).

Every public key that has ever signed is kept in the database and published for ever
(the JWKS, one URL per key, the issuer's controller document), so rotating a key never
breaks a credential already handed out. A key is named by its RFC 7638 thumbprint; the
``kid`` of a JWT is the URL that returns its JWK.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import base58
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates.models import SigningKey
from core import clock
from core.config import instance_secret
from core.db import get_db

RSA_BITS = 3072
ED25519_MULTICODEC = b"\xed\x01"  # the multicodec prefix of an Ed25519 public key


class Algorithm(StrEnum):
    """A JWS ``alg``; each names one kind of key."""

    RS256 = "RS256"
    EDDSA = "EdDSA"


@dataclass(frozen=True)
class KeyKind:
    config_name: str
    file_name: str
    kty: str
    jwk_members: tuple[str, ...]  # the members RFC 7638 hashes, sorted


KINDS = {
    Algorithm.EDDSA: KeyKind(
        "CERT_SIGNING_KEY", "certificate-signing-key.pem", "OKP", ("crv", "kty", "x")
    ),
    Algorithm.RS256: KeyKind(
        "CERT_RSA_SIGNING_KEY", "certificate-rsa-signing-key.pem", "RSA", ("e", "kty", "n")
    ),
}
ALGORITHM_OF_KTY = {kind.kty: algorithm for algorithm, kind in KINDS.items()}
KEY_FILE = KINDS[Algorithm.EDDSA].file_name

PrivateKey = Ed25519PrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Signer:
    algorithm: Algorithm
    private_key: PrivateKey
    kid: str  # the RFC 7638 thumbprint
    public_jwk: dict[str, str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_int(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_jwk(private_key: PrivateKey) -> dict[str, str]:
    if isinstance(private_key, Ed25519PrivateKey):
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    numbers = private_key.public_key().public_numbers()
    return {"kty": "RSA", "n": _b64url_int(numbers.n), "e": _b64url_int(numbers.e)}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: the SHA-256 of the required members, sorted, without spaces."""
    members = {name: jwk[name] for name in KINDS[ALGORITHM_OF_KTY[jwk["kty"]]].jwk_members}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def _new_private_pem(algorithm: Algorithm) -> str:
    key: PrivateKey = (
        Ed25519PrivateKey.generate()
        if algorithm == Algorithm.EDDSA
        else rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    )
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_private_key(pem: str, algorithm: Algorithm = Algorithm.EDDSA) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if algorithm == Algorithm.EDDSA and isinstance(key, Ed25519PrivateKey):
        return key
    if algorithm == Algorithm.RS256 and isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ValueError(
                f"{KINDS[algorithm].config_name} must be an RSA key of 2048 bits or more"
            )
        return key
    kind = "an Ed25519" if algorithm == Algorithm.EDDSA else "an RSA"
    raise ValueError(f"{KINDS[algorithm].config_name} must be {kind} private key in PEM")


def jwt_algorithm(app: Flask) -> Algorithm:
    """The algorithm that signs VC-JWTs and status lists (``CERT_JWT_ALGORITHM``)."""
    return Algorithm(app.config.get("CERT_JWT_ALGORITHM") or Algorithm.RS256)


def signer(app: Flask, algorithm: Algorithm = Algorithm.EDDSA) -> Signer:
    """The app's current key of ``algorithm``, loaded once per process."""
    signers: dict[Algorithm, Signer] = app.extensions.setdefault("csm_signers", {})
    cached = signers.get(algorithm)
    if cached is None:
        kind = KINDS[algorithm]
        pem = app.config.get(kind.config_name) or instance_secret(
            Path(app.instance_path), kind.file_name, lambda: _new_private_pem(algorithm)
        )
        private_key = load_private_key(pem, algorithm)
        jwk = public_jwk(private_key)
        cached = Signer(algorithm, private_key, thumbprint(jwk), jwk)
        signers[algorithm] = cached
    return cached


def rotate(app: Flask, algorithm: Algorithm = Algorithm.EDDSA) -> Signer:
    """A new key in ``instance/``; the old public key stays published."""
    kind = KINDS[algorithm]
    if app.config.get(kind.config_name):
        raise ValueError(f"the key comes from {kind.config_name}; set a new one there instead")
    path = Path(app.instance_path) / kind.file_name
    if path.exists():
        retired = path.with_name(f"{kind.file_name}.{clock.now():%Y%m%dT%H%M%S}.retired")
        path.rename(retired)
    app.extensions.setdefault("csm_signers", {}).pop(algorithm, None)
    return signer(app, algorithm)


def publish(app: Flask, current: Signer) -> None:
    """Record the current public key before it signs anything, once per process.

    In a write session of its own, so a GET request's read session never writes.
    """
    published: set[str] = app.extensions.setdefault("csm_published_kids", set())
    if current.kid in published:
        return
    with get_db(app).session_scope() as session:
        if session.get(SigningKey, current.kid) is None:
            try:
                with session.begin_nested():
                    session.add(
                        SigningKey(
                            kid=current.kid,
                            public_jwk=current.public_jwk,
                            first_used_at=clock.now(),
                        )
                    )
            except IntegrityError:  # another worker published it at the same moment
                pass
    published.add(current.kid)


def publish_all(app: Flask) -> None:
    """Both current keys, so every published document lists them before they sign."""
    for algorithm in Algorithm:
        publish(app, signer(app, algorithm))


# ---- the public keys, as each kind of verifier looks for them --------------------------


def issuer_id(app: Flask) -> str:
    """The issuer's profile, which is also the controller document of its keys."""
    return f"{app.config['PUBLIC_BASE_URL']}/issuer"


def verification_method(app: Flask, kid: str) -> str:
    """A key's id in the issuer's controller document."""
    return f"{issuer_id(app)}#{kid}"


def key_url(app: Flask, kid: str) -> str:
    """The JWT ``kid``: a URL that returns the key's public JWK."""
    return f"{app.config['PUBLIC_BASE_URL']}/issuer/keys/{kid}"


def kid_from_header(app: Flask, value: object) -> str:
    """The thumbprint a JWT header's ``kid`` names: our key URL, or a bare thumbprint as
    credentials issued before key URLs carried it."""
    text = str(value or "")
    prefix = key_url(app, "")
    return (text[len(prefix) :] if text.startswith(prefix) else text)[:64]


def algorithm_of(key: SigningKey) -> Algorithm:
    return ALGORITHM_OF_KTY[key.public_jwk["kty"]]


def published_jwk(app: Flask, key: SigningKey) -> dict[str, str]:
    algorithm = algorithm_of(key)
    return {**key.public_jwk, "kid": key_url(app, key.kid), "use": "sig", "alg": algorithm}


def published_keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.first_used_at)))


def jwks(app: Flask, session: Session) -> dict[str, list[dict[str, str]]]:
    return {"keys": [published_jwk(app, key) for key in published_keys(session)]}


def multibase_public_key(jwk: dict[str, str]) -> str:
    """An Ed25519 public key as Multikey writes it: base58btc (``z``) of the multicodec
    prefix and the raw key."""
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return "z" + base58.b58encode(ED25519_MULTICODEC + raw).decode()


def public_key_from_multibase(value: str) -> Ed25519PublicKey | None:
    if not value.startswith("z"):
        return None
    try:
        decoded = base58.b58decode(value[1:])
    except ValueError:
        return None
    if len(decoded) != 34 or not decoded.startswith(ED25519_MULTICODEC):
        return None
    return Ed25519PublicKey.from_public_bytes(decoded[2:])


def ed25519_public_key(key: SigningKey) -> Ed25519PublicKey:
    jwk = key.public_jwk
    return Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    )


# ---- signing ---------------------------------------------------------------------------


def proof_key(app: Flask) -> tuple[Ed25519PrivateKey, str]:
    """The Ed25519 key that signs Data Integrity proofs, published, and its
    verification method."""
    current = signer(app, Algorithm.EDDSA)
    publish(app, current)
    assert isinstance(current.private_key, Ed25519PrivateKey)
    return current.private_key, verification_method(app, current.kid)


JWT_TYP = "JWT"  # Open Badges 3.0: if present, MUST be "JWT"
# The claims PyJWT would judge itself: times belong to the app's clock, the rest to us.
UNJUDGED_CLAIMS: jwt.types.Options = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_sub": False,
    "verify_jti": False,
}


def sign_jwt(app: Flask, claims: dict[str, Any]) -> str:
    """A compact JWS over ``claims`` with the header OB 3.0 allows (``alg``, ``kid``,
    ``typ`` and nothing else), checked against the public key before it leaves."""
    current = signer(app, jwt_algorithm(app))
    publish(app, current)
    headers = {"kid": key_url(app, current.kid), "typ": JWT_TYP}
    token = jwt.encode(claims, current.private_key, algorithm=current.algorithm, headers=headers)
    if _decode(token, current.private_key.public_key(), current.algorithm) != claims:
        raise RuntimeError("a signed credential did not verify against its own key")
    return token


def verify_jwt(app: Flask, key: SigningKey, token: str) -> dict[str, Any]:
    """The claims of ``token`` if ``key`` signed it; raises ``jwt.InvalidTokenError``."""
    algorithm = algorithm_of(key)
    return _decode(token, jwt.PyJWK({**key.public_jwk, "alg": algorithm}).key, algorithm)


def _decode(token: str, public_key: Any, algorithm: Algorithm) -> dict[str, Any]:
    """The signature only: times are judged by the caller at the app's clock."""
    claims: dict[str, Any] = jwt.decode(
        token,
        public_key,
        algorithms=[algorithm],
        options=UNJUDGED_CLAIMS,
    )
    return claims
