"""The Ed25519 key that signs credentials, and the public keys that verify them.

The private key comes from ``CERT_SIGNING_KEY`` (PEM) or is generated into
``instance/`` on first use. Every public key that has ever signed is kept in the
database and published in the JWKS for ever, so rotating the key never breaks a
credential already handed out.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates.models import SigningKey
from core import clock
from core.config import instance_secret
from core.db import get_db

KEY_FILE = "certificate-signing-key.pem"
ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey
    kid: str
    public_jwk: dict[str, str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: the SHA-256 of the required members, sorted, without spaces."""
    members = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def _new_private_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("CERT_SIGNING_KEY must be an Ed25519 private key in PEM")
    return key


def signer(app: Flask) -> Signer:
    """The app's current signer, loaded once per process."""
    cached: Signer | None = app.extensions.get("csm_signer")
    if cached is None:
        pem = app.config.get("CERT_SIGNING_KEY") or instance_secret(
            Path(app.instance_path), KEY_FILE, _new_private_pem
        )
        private_key = load_private_key(pem)
        jwk = public_jwk(private_key.public_key())
        cached = Signer(private_key, thumbprint(jwk), jwk)
        app.extensions["csm_signer"] = cached
    return cached


def rotate(app: Flask) -> Signer:
    """A new key in ``instance/``; the old public key stays published."""
    path = Path(app.instance_path) / KEY_FILE
    if app.config.get("CERT_SIGNING_KEY"):
        raise ValueError("the key comes from CERT_SIGNING_KEY; set a new one there instead")
    if path.exists():
        retired = path.with_name(f"{KEY_FILE}.{clock.now():%Y%m%dT%H%M%S}.retired")
        path.rename(retired)
    app.extensions.pop("csm_signer", None)
    return signer(app)


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


def jwks(session: Session) -> dict[str, list[dict[str, str]]]:
    keys = session.scalars(select(SigningKey).order_by(SigningKey.first_used_at))
    return {
        "keys": [{**key.public_jwk, "kid": key.kid, "use": "sig", "alg": ALGORITHM} for key in keys]
    }


def sign(app: Flask, claims: dict[str, Any], typ: str) -> str:
    """A compact JWS over ``claims``, checked against the public key before it leaves."""
    current = signer(app)
    publish(app, current)
    token = jwt.encode(
        claims, current.private_key, algorithm=ALGORITHM, headers={"kid": current.kid, "typ": typ}
    )
    checked = jwt.decode(
        token,
        current.private_key.public_key(),
        algorithms=[ALGORITHM],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    if checked != claims:
        raise RuntimeError("a signed credential did not verify against its own key")
    return token
