"""Embedded Data Integrity proofs: ``DataIntegrityProof`` with the ``eddsa-rdfc-2022``
cryptosuite (W3C VC Data Integrity EdDSA Cryptosuites v1.0), the linked-data proof Open
Badges 3.0 names, and the one wallets and the Digital Credentials Consortium's verifier
check.

The unsecured document and the proof's options (with the document's ``@context``) are
each canonicalised with RDFC-1.0 and hashed with SHA-256; the Ed25519 signature over the
two hashes, proof options' first, is the ``proofValue``, multibase base58btc.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask
from pyld.jsonld import JsonLdError

from certificates.jsonld import ContextUnavailable, canonical_nquads
from core import clock

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"


class ProofError(ValueError):
    """The proof is missing, malformed or does not hold; the message says which."""


def _hash_data(app: Flask, document: dict[str, Any], options: dict[str, Any]) -> bytes:
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    config = {"@context": document["@context"], **options}
    config.pop("proofValue", None)
    try:
        config_hash = hashlib.sha256(canonical_nquads(app, config).encode()).digest()
        document_hash = hashlib.sha256(canonical_nquads(app, unsecured).encode()).digest()
    except (JsonLdError, ContextUnavailable) as exc:
        raise ProofError(f"The document is not JSON-LD we can read: {exc}") from exc
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        # pyld assumes well-formed JSON-LD and trips on some shapes a stranger can send.
        raise ProofError("The document is not JSON-LD we can read.") from exc
    return config_hash + document_hash


def with_proof(
    app: Flask,
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """``document`` with a proof appended (OB 3.0's schema wants ``proof`` as a list)."""
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": clock.as_utc(created).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    signature = private_key.sign(_hash_data(app, document, options))
    proof = {**options, "proofValue": "z" + base58.b58encode(signature).decode()}
    return {**copy.deepcopy(document), "proof": [proof]}


def verify_proof(
    app: Flask,
    document: dict[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey | None],
) -> str:
    """The verification method of the document's proof if it holds; else ``ProofError``.

    ``resolve_key`` maps a verification method to an Ed25519 key the issuer publishes for
    assertions, or None."""
    proofs = document.get("proof")
    if isinstance(proofs, dict):
        proofs = [proofs]
    if not isinstance(proofs, list) or not proofs:
        raise ProofError("The credential carries no embedded proof.")
    if len(proofs) != 1 or not isinstance(proofs[0], dict):
        raise ProofError("The credential must carry exactly one proof.")
    proof = proofs[0]
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"The proof is not a {PROOF_TYPE} with {CRYPTOSUITE}.")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofError("The proof's purpose is not assertionMethod.")
    method = str(proof.get("verificationMethod", ""))
    public_key = resolve_key(method)
    if public_key is None:
        raise ProofError("The proof names a key the issuer does not publish.")
    value = str(proof.get("proofValue", ""))
    try:
        signature = base58.b58decode(value[1:]) if value.startswith("z") else b""
    except ValueError:
        signature = b""
    if len(signature) != 64:
        raise ProofError("The proof value is not an Ed25519 signature in base58btc.")
    if not isinstance(document.get("@context"), list):
        raise ProofError("The credential has no JSON-LD context.")
    try:
        public_key.verify(signature, _hash_data(app, document, proof))
    except InvalidSignature as exc:
        raise ProofError("The proof does not match the content.") from exc
    return method
