"""Signed credentials and what verifies them: the issuer profile, the public keys (JWKS),
the status lists, and each holder's credential as VC-JWT or JSON."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify

from certificates import credentials, signing
from certificates.views import visible_certificate
from core.auth import roles_required
from core.db import get_session

bp = Blueprint("credentials", __name__)

VC_JWT = "application/vc+jwt"


@bp.get("/issuer")
def issuer() -> Any:
    response = jsonify(credentials.issuer_profile(current_app))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Any:
    signing.publish(current_app, signing.signer(current_app))
    response = jsonify(signing.jwks(get_session()))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/status/<purpose>")
def status_list(purpose: str) -> Response:
    if purpose not in credentials.STATUS_PURPOSES:
        abort(404)
    session = get_session()
    token = credentials.signed_status_list(current_app, session, purpose)
    return Response(
        token,
        mimetype=VC_JWT,
        headers={"Cache-Control": f"public, max-age={credentials.STATUS_TTL_SECONDS}"},
    )


def _signed_for_holder_or_staff(code: str) -> tuple[str, credentials.SignedCredential]:
    """The certificate's credential, signed now; a 404 for anyone but its holder and staff."""
    session = get_session()
    certificate = visible_certificate(code)
    signed = credentials.signed_credential(current_app, session, certificate)
    return certificate.code, signed


@bp.get("/certificates/<code>/credential.jwt")
@roles_required()
def credential_jwt(code: str) -> Response:
    code, signed = _signed_for_holder_or_staff(code)
    return Response(
        signed.token,
        mimetype=VC_JWT,
        headers={
            "Content-Disposition": f'attachment; filename="{code}.jwt"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/certificates/<code>/credential.json")
@roles_required()
def credential_json(code: str) -> Any:
    """The same signed credential, decoded for people and tools that read JSON."""
    _, signed = _signed_for_holder_or_staff(code)
    response = jsonify({"credential": signed.claims, "jwt": signed.token})
    response.headers["Cache-Control"] = "private, no-store"
    return response
