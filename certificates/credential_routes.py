"""Signed credentials and what verifies them: the issuer profile (the controller
document of our keys), each key's JWK, the JWKS, the status lists, and each holder's
credential as VC-JWT or as JSON-LD with its embedded proof."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from certificates import badges, baking, credentials, signing, status_lists
from certificates.codes import file_stem
from certificates.models import SigningKey
from certificates.terms import achievement_wording
from certificates.views import visible_certificate
from core.auth import roles_required
from core.db import get_session

bp = Blueprint("credentials", __name__)

VC_JWT = "application/vc+jwt"
JSON_LD = "application/ld+json"
JWK_JSON = "application/jwk+json"
PUBLIC_FOR_AN_HOUR = "public, max-age=3600"


def _json(body: object, mimetype: str, cache: str) -> Response:
    return current_app.response_class(
        current_app.json.dumps(body), mimetype=mimetype, headers={"Cache-Control": cache}
    )


@bp.get("/issuer")
def issuer() -> Response:
    profile = credentials.issuer_profile(current_app, get_session())
    return _json(profile, JSON_LD, PUBLIC_FOR_AN_HOUR)


@bp.get("/issuer/keys/<kid>")
def key(kid: str) -> Response:
    """What a JWT's ``kid`` dereferences to: the public JWK, never a private member."""
    known = get_session().get(SigningKey, kid[:64])
    if known is None:
        abort(404)
    return _json(signing.published_jwk(current_app, known), JWK_JSON, PUBLIC_FOR_AN_HOUR)


@bp.get("/.well-known/jwks.json")
def jwks() -> Any:
    signing.publish_all(current_app)
    response = jsonify(signing.jwks(current_app, get_session()))
    response.headers["Cache-Control"] = PUBLIC_FOR_AN_HOUR
    return response


def _wants_json_ld() -> bool:
    """A status list as JSON-LD for linked-data verifiers that ask for JSON; as a VC-JWT
    for everyone else, as it has always been served."""
    offered = [VC_JWT, "application/jwt", JSON_LD, "application/vc", "application/json"]
    best = request.accept_mimetypes.best_match(offered, default=VC_JWT)
    return best in {JSON_LD, "application/vc", "application/json"} and (
        request.accept_mimetypes[best] > request.accept_mimetypes[VC_JWT]
    )


@bp.get("/status/<purpose>")
def status_list(purpose: str) -> Response:
    if purpose not in status_lists.STATUS_PURPOSES:
        abort(404)
    session = get_session()
    cache = f"public, max-age={status_lists.STATUS_TTL_SECONDS}"
    if _wants_json_ld():
        document = status_lists.status_list_with_proof(current_app, session, purpose)
        response = _json(document, JSON_LD, cache)
    else:
        token = status_lists.signed_status_list(current_app, session, purpose)
        response = Response(token, mimetype=VC_JWT, headers={"Cache-Control": cache})
    response.vary.add("Accept")
    return response


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
            "Content-Disposition": f'attachment; filename="{file_stem(code)}.jwt"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/certificates/<code>/credential.json")
@roles_required()
def credential_json(code: str) -> Response:
    """The credential with its embedded proof, for wallets and linked-data verifiers."""
    code, signed = _signed_for_holder_or_staff(code)
    response = _json(signed.document, JSON_LD, "private, no-store")
    response.headers["Content-Disposition"] = f'attachment; filename="{file_stem(code)}.json"'
    return response


@bp.get("/achievements/<code>/badge.svg")
def achievement_badge(code: str) -> Response:
    """The achievement's image, as every credential of it names it: no holder. ``code``
    is a programme's, or a blueprint's that no programme lists (and older credentials)."""
    wording = achievement_wording(get_session(), code[:60])
    if wording is None:
        abort(404)
    title, level = wording
    svg = badges.badge_svg(title, level, credentials.ISSUER_NAME)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": PUBLIC_FOR_AN_HOUR})


@bp.get("/certificates/<code>/badge.png")
@roles_required()
def baked_badge(code: str) -> Response:
    """The holder's badge with their signed credential baked in (OB 3.0 baking: an
    ``iTXt`` chunk ``openbadgecredential`` holding the compact JWS)."""
    session = get_session()
    certificate = visible_certificate(code)
    signed = credentials.signed_credential(current_app, session, certificate)
    image = badges.badge_png(
        certificate.title, certificate.level, credentials.ISSUER_NAME, certificate.holder_name
    )
    name = file_stem(certificate.code)
    return Response(
        baking.bake(image, signed.token),
        mimetype="image/png",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-badge.png"',
            "Cache-Control": "private, no-store",
        },
    )
