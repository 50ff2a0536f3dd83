"""Bitstring Status Lists: where a credential already handed out says whether it still
stands.

Each credential carries one ``BitstringStatusListEntry`` (Open Badges 3.0's schema allows
one object), in the revocation list. A suspension sets the credential's bit there too,
so any standard verifier refuses a suspended credential; since the specification makes
revocation final, lifting a suspension or a revocation retires the index (its bit stays
set for ever) and the certificate takes a fresh one: the holder's credential, signed
anew on each download, carries it. The suspension list is still published for the
credentials issued before, which carried an entry in each list.
"""

from __future__ import annotations

import base64
import gzip
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates import data_integrity, jsonld, signing
from certificates.models import Certificate, StatusEntry, StatusPurpose
from core import clock

STATUS_LIST_SIZE = 131_072  # the specification's minimum: 16 KiB of bits
STATUS_PURPOSES = tuple(StatusPurpose)
CREDENTIAL_PURPOSE = StatusPurpose.REVOCATION  # the list a new credential's entry names
STATUS_TTL_SECONDS = 300
LIST_VALIDITY = timedelta(days=1)


def iso(moment: datetime) -> str:
    return clock.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- entries ---------------------------------------------------------------------------


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
    """Leave the flagged index flagged for ever and give the certificate a new one."""
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
    flagged = current.where(
        or_(Certificate.revoked_at.is_not(None), Certificate.suspended_at.is_not(None))
    )
    return list(session.scalars(union_all(retired, flagged)))


def entry_for(app: Flask, index: int) -> dict[str, str]:
    url = status_list_url(app, CREDENTIAL_PURPOSE)
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": CREDENTIAL_PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


# ---- the lists -------------------------------------------------------------------------


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


def status_list_document(
    app: Flask, purpose: str, set_indices: list[int], issued: datetime
) -> dict[str, Any]:
    url = status_list_url(app, purpose)
    return {
        "@context": [jsonld.VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": signing.issuer_id(app),
        "validFrom": iso(issued),
        "validUntil": iso(issued + LIST_VALIDITY),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_bits(set_indices),
            "ttl": STATUS_TTL_SECONDS * 1000,
        },
    }


def _jwt_claims(app: Flask, document: dict[str, Any], issued: datetime) -> dict[str, Any]:
    return {
        **document,
        "iss": signing.issuer_id(app),
        "jti": document["id"],
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + LIST_VALIDITY).timestamp()),
    }


def _published(
    app: Flask,
    session: Session,
    purpose: str,
    form: str,
    make: Callable[[dict[str, Any], datetime], Any],
) -> Any:
    """The list as it stands now, in ``form``. The set bits are read on every call, so a
    revocation is published at once; the signed list is reused (per process) while the
    bits and the ttl window are unchanged, since signing and compressing 16 KiB per
    request would cost more than everything else on the route."""
    set_indices = sorted(set_bits(session, purpose))
    now = clock.now()
    window = int(now.timestamp()) // STATUS_TTL_SECONDS * STATUS_TTL_SECONDS
    key = (purpose, window, signing.jwt_algorithm(app), tuple(set_indices))
    cache: dict[tuple[str, str], tuple[tuple[object, ...], Any]] = app.extensions.setdefault(
        "csm_status_lists", {}
    )
    cached = cache.get((purpose, form))
    if cached is not None and cached[0] == key:
        return cached[1]
    issued = datetime.fromtimestamp(window, tz=now.tzinfo)
    made = make(status_list_document(app, purpose, set_indices, issued), issued)
    cache[(purpose, form)] = (key, made)
    return made


def signed_status_list(app: Flask, session: Session, purpose: str) -> str:
    """The list as a VC-JWT."""
    return str(
        _published(
            app,
            session,
            purpose,
            "jwt",
            lambda document, issued: signing.sign_jwt(app, _jwt_claims(app, document, issued)),
        )
    )


def status_list_with_proof(app: Flask, session: Session, purpose: str) -> dict[str, Any]:
    """The list as JSON-LD with an embedded Data Integrity proof."""

    def make(document: dict[str, Any], issued: datetime) -> dict[str, Any]:
        private_key, method = signing.proof_key(app)
        return data_integrity.with_proof(app, document, private_key, method, issued)

    proven: dict[str, Any] = _published(app, session, purpose, "json", make)
    return proven
