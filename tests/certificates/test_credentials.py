"""The signed Open Badges 3.0 credential, checked the way an outside verifier would: only
the published JWKS, the published status list and a general-purpose JOSE library
(jwcrypto), no code of ours."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jwcrypto import jwk
from jwcrypto import jwt as jose_jwt
from jwcrypto.common import JWException
from jwcrypto.jwt import JWTNotYetValid

from certificates import signing
from certificates.models import Certificate
from tests.certificates.fixtures import (
    all_certificates,
    holder_client,
    passed_attempt,
    staff_client,
)
from tests.conftest import AppFactory, MovableClock, post_form, sign_in
from tests.exam.fixtures import ExamWorld

YEAR = 365 * 86_400


def _published_keys(client: FlaskClient) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(client.get("/.well-known/jwks.json").get_data(as_text=True))


@dataclass
class Outsider:
    """A verifier with no code of ours, judging time at the app's moment (the test clock),
    never the machine's: a status list signed at the clock's time lives one day of it."""

    client: FlaskClient
    clock: MovableClock

    def claims(self, token: str, later_by: int = 0) -> dict[str, Any]:
        """Verify: signature by a published key, then ``exp`` and ``nbf`` as of the clock's
        now plus ``later_by`` seconds."""
        moment = int(self.clock.now().timestamp()) + later_by
        checked = jose_jwt.JWT(algs=["RS256", "EdDSA"], check_claims={"exp": moment})
        checked.deserialize(token, _published_keys(self.client))
        claims: dict[str, Any] = json.loads(checked.claims)
        if claims.get("nbf", moment) > moment:
            raise JWTNotYetValid(f"valid from {claims['nbf']}, now {moment}")
        return claims

    def bit(self, entry: dict[str, Any]) -> int:
        """The entry's bit in its published, signed status list."""
        url = entry["statusListCredential"].removeprefix("http://localhost")
        response = self.client.get(url)
        assert response.mimetype == "application/vc+jwt"
        max_age = int(response.headers["Cache-Control"].split("max-age=")[1])
        listed = self.claims(response.get_data(as_text=True))
        subject = listed["credentialSubject"]
        assert subject["statusPurpose"] == entry["statusPurpose"]
        assert subject["ttl"] == max_age * 1000
        encoded = subject["encodedList"]
        assert encoded.startswith("u")
        raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
        bits = gzip.decompress(raw)
        assert len(bits) * 8 >= 131_072
        index = int(entry["statusListIndex"])
        return (bits[index // 8] >> (7 - index % 8)) & 1


@dataclass
class Scene:
    """A passed certificate, its holder's credential, and the three people around it."""

    certificate: Certificate
    ana: FlaskClient
    public: FlaskClient
    outsider: Outsider
    staff: FlaskClient
    token: str
    page: str


def _scene(app: Flask, world: ExamWorld) -> Scene:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    ana = holder_client(app, world)
    token = ana.get(f"/certificates/{certificate.code}/credential.jwt").get_data(as_text=True)
    public = app.test_client()
    return Scene(
        certificate,
        ana,
        public,
        Outsider(public, world.clock),
        staff_client(app, world),
        token,
        f"/certificates/{certificate.code}",
    )


def test_an_outsider_verifies_the_credential_and_catches_tampering_expiry_and_revocation(
    app: Flask, world: ExamWorld
) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    email = world.people["ana"]["user"].email
    ana, public = holder_client(app, world), app.test_client()
    outsider = Outsider(public, world.clock)
    response = ana.get(f"/certificates/{certificate.code}/credential.jwt")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    token = response.get_data(as_text=True)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    # OB 3.0's JOSE header: alg, kid (a URL that returns the public JWK), typ JWT; no more.
    assert set(header) == {"alg", "kid", "typ"} and header["typ"] == "JWT"
    assert header["alg"] == "RS256" and header["kid"] in {
        key["kid"] for key in public.get("/.well-known/jwks.json").get_json()["keys"]
    }
    served = public.get(header["kid"].removeprefix("http://localhost"))
    assert served.mimetype == "application/jwk+json" and "d" not in served.get_json()
    assert jwk.JWK(**served.get_json()).thumbprint() == header["kid"].rsplit("/", 1)[1]

    claims = outsider.claims(token)
    vc = claims["vc"]
    assert claims["iss"] == vc["issuer"]["id"] and claims["jti"] == vc["id"]
    assert claims["sub"] == vc["credentialSubject"]["id"]
    assert claims["sub"].startswith("urn:uuid:") and email not in claims["sub"]
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["validFrom"].endswith("Z") and claims["validUntil"] > claims["validFrom"]
    subject = claims["credentialSubject"]
    assert email not in token and email not in json.dumps(claims)
    hashed = subject["identifier"][0]
    assert hashed["hashed"] is True and hashed["identityHash"].startswith("sha256$")
    codes = {a["targetCode"] for a in subject["achievement"]["alignment"]}
    assert {"CU.SK", "CO.KN"} <= codes
    issuer = public.get("/issuer").get_json()
    assert claims["issuer"]["id"] == issuer["id"] == "http://localhost/issuer"
    entry = claims["credentialStatus"]
    assert entry["statusPurpose"] == "revocation" and outsider.bit(entry) == 0

    # One byte changed anywhere in the payload: the signature no longer holds.
    head, payload, signature = token.split(".")
    flipped = payload[:40] + ("A" if payload[40] != "A" else "B") + payload[41:]
    with pytest.raises(JWException):
        outsider.claims(f"{head}.{flipped}.{signature}")
    # Read three years later, the credential has expired.
    with pytest.raises(JWException, match=r"[Ee]xpired"):
        outsider.claims(token, later_by=3 * YEAR)

    staff = staff_client(app, world)
    page = f"/certificates/{certificate.code}"
    revoked = post_form(
        staff,
        page,
        f"{page}/revoke",
        {"revoke-reason": "misconduct", "revoke-note": "Proxy.", "confirmed": "yes"},
    )
    assert revoked.status_code == 302
    assert outsider.bit(entry) == 1
    verdict = public.post("/api/v1/credentials/verify", json={"credential": token}).get_json()
    assert verdict["verified"] is False
    assert verdict["checks"]["signature"]["passed"] and verdict["checks"]["issuer"]["passed"]
    assert verdict["checks"]["status"] == {"passed": False, "detail": "Revoked."}
    assert verdict["checks"]["expiry"]["passed"]


def test_reinstating_keeps_the_old_credential_revoked_and_issues_a_new_one(
    app: Flask, world: ExamWorld
) -> None:
    scene = _scene(app, world)
    staff, page = scene.staff, scene.page
    post_form(
        staff,
        page,
        f"{page}/revoke",
        {"revoke-reason": "issued_in_error", "revoke-note": "x", "confirmed": "yes"},
    )
    back = post_form(
        staff, page, f"{page}/reinstate", {"decision-note": "Appeal upheld.", "confirmed": "yes"}
    )
    assert back.status_code == 302
    new_token = scene.ana.get(f"{page}/credential.jwt").get_data(as_text=True)
    old = scene.outsider.claims(scene.token)["credentialStatus"]
    new = scene.outsider.claims(new_token)["credentialStatus"]
    assert old["statusListIndex"] != new["statusListIndex"]
    assert scene.outsider.bit(old) == 1 and scene.outsider.bit(new) == 0
    checks = scene.public.post("/api/v1/credentials/verify", json={"credential": new_token})
    assert checks.get_json()["verified"] is True


def test_a_suspension_fails_every_standard_verifier_and_lifting_it_issues_afresh(
    app: Flask, world: ExamWorld
) -> None:
    """One status entry: a suspension sets the credential's bit in the revocation list,
    so a verifier that knows nothing of suspension still refuses it; lifting it gives the
    certificate a fresh index and the copy shown during the suspension stays refused."""
    scene = _scene(app, world)
    public, staff, page = scene.public, scene.staff, scene.page
    entry = scene.outsider.claims(scene.token)["credentialStatus"]
    post_form(
        staff,
        page,
        f"{page}/suspend",
        {"decision-note": "Complaint under review.", "confirmed": "yes"},
    )
    assert scene.outsider.bit(entry) == 1
    verify = {"credential": scene.token}
    verdict = public.post("/api/v1/credentials/verify", json=verify).get_json()
    assert verdict["checks"]["status"]["detail"] == "Suspended."
    post_form(
        staff,
        page,
        f"{page}/reinstate",
        {"decision-note": "Complaint dismissed.", "confirmed": "yes"},
    )
    assert scene.outsider.bit(entry) == 1
    verdict = public.post("/api/v1/credentials/verify", json=verify).get_json()
    assert verdict["verified"] is False
    assert (
        "issued before a suspension or revocation that has since been lifted"
        in (verdict["checks"]["status"]["detail"])
    )
    fresh = scene.ana.get(f"{page}/credential.jwt").get_data(as_text=True)
    renewed = scene.outsider.claims(fresh)["credentialStatus"]
    assert renewed["statusListIndex"] != entry["statusListIndex"]
    assert scene.outsider.bit(renewed) == 0
    verdict = public.post("/api/v1/credentials/verify", json={"credential": fresh}).get_json()
    assert verdict["verified"] is True


def test_rotating_the_key_keeps_old_credentials_verifiable(
    make_app: AppFactory, world: ExamWorld
) -> None:
    app = make_app(CERT_RSA_SIGNING_KEY=None)
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    ana, public = holder_client(app, world), app.test_client()
    outsider = Outsider(public, world.clock)
    old_token = ana.get(f"/certificates/{certificate.code}/credential.jwt").get_data(as_text=True)
    with app.app_context():
        old_kid = signing.key_url(app, signing.signer(app, signing.Algorithm.RS256).kid)
        new_kid = signing.key_url(app, signing.rotate(app, signing.Algorithm.RS256).kid)
    assert new_kid != old_kid
    new_token = ana.get(f"/certificates/{certificate.code}/credential.jwt").get_data(as_text=True)
    kids = [key["kid"] for key in public.get("/.well-known/jwks.json").get_json()["keys"]]
    assert old_kid in kids and new_kid in kids
    assert outsider.claims(old_token)["id"] == outsider.claims(new_token)["id"]
    headers = [
        json.loads(base64.urlsafe_b64decode(t.split(".")[0] + "==")) for t in (old_token, new_token)
    ]
    assert [h["kid"] for h in headers] == [old_kid, new_kid]


def test_the_verify_api_refuses_what_we_did_not_sign(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    public = app.test_client()
    stranger = jwk.JWK.generate(kty="OKP", crv="Ed25519", kid="stranger")
    forged = jose_jwt.JWT(
        header={"alg": "EdDSA", "kid": "stranger"}, claims={"issuer": "http://localhost/issuer"}
    )
    forged.make_signed_token(stranger)
    answer = public.post(
        "/api/v1/credentials/verify", json={"credential": forged.serialize()}
    ).get_json()
    assert answer["verified"] is False and answer["checks"]["signature"]["passed"] is False
    assert list(answer["checks"]) == ["signature"]
    # Our own key id on a credential signed by someone else's key: the signature fails.
    ours = next(
        key["kid"]
        for key in public.get("/.well-known/jwks.json").get_json()["keys"]
        if key["alg"] == "EdDSA"
    )
    impostor = jose_jwt.JWT(header={"alg": "EdDSA", "kid": ours}, claims={"issuer": "x"})
    impostor.make_signed_token(stranger)
    answer = public.post(
        "/api/v1/credentials/verify", json={"credential": impostor.serialize()}
    ).get_json()
    assert answer["checks"] == {
        "signature": {"passed": False, "detail": "The signature does not match the content."}
    }
    garbage = public.post("/api/v1/credentials/verify", json={"credential": "not.a.jwt"})
    assert garbage.status_code == 200 and garbage.get_json()["verified"] is False
    missing = public.post("/api/v1/credentials/verify", json={})
    assert missing.status_code == 422 and missing.mimetype == "application/problem+json"


def test_only_the_holder_and_staff_get_the_credential_and_pdf(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    ben = app.test_client()
    sign_in(ben, world.people["ben"]["user"].email)
    for path in ("", ".pdf", "/credential.jwt", "/credential.json"):
        assert ben.get(f"/certificates/{certificate.code}{path}").status_code == 404
        assert app.test_client().get(f"/certificates/{certificate.code}{path}").status_code == 302
    ana = holder_client(app, world)
    pdf = ana.get(f"/certificates/{certificate.code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    staff = staff_client(app, world)
    assert staff.get(f"/certificates/{certificate.code}.pdf").status_code == 200
    assert staff.get("/certificates/CSM1-0000-0000-0000").status_code == 404


@pytest.mark.parametrize(
    ("algorithm", "kty"), [(signing.Algorithm.EDDSA, "OKP"), (signing.Algorithm.RS256, "RSA")]
)
def test_each_signing_key_comes_from_the_environment_or_a_private_instance_file(
    make_app: AppFactory, tmp_path: Path, algorithm: signing.Algorithm, kty: str
) -> None:
    kind = signing.KINDS[algorithm]
    generated = make_app(CERT_RSA_SIGNING_KEY=None)
    with generated.app_context():
        kid = signing.signer(generated, algorithm).kid
    key_file = Path(generated.instance_path) / kind.file_name
    assert key_file.stat().st_mode & 0o777 == 0o600
    pem = key_file.read_text()
    given = make_app(**{kind.config_name: pem, "INSTANCE_PATH": str(tmp_path / "other")})
    with given.app_context():
        assert signing.signer(given, algorithm).kid == kid
    published = given.test_client().get("/.well-known/jwks.json").get_json()["keys"]
    [mine] = [key for key in published if key["kty"] == kty]
    assert mine["kid"] == f"http://localhost/issuer/keys/{kid}" and mine["alg"] == algorithm
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(mine)  # never the private part
    result = given.test_cli_runner().invoke(
        args=["certificates", "rotate-key", "--algorithm", str(algorithm)]
    )
    assert result.exit_code != 0 and kind.config_name in result.output


def test_rotate_key_from_the_command_line(make_app: AppFactory) -> None:
    app = make_app(CERT_RSA_SIGNING_KEY=None)
    runner = app.test_cli_runner()
    with app.app_context():
        old = {algorithm: signing.signer(app, algorithm).kid for algorithm in signing.Algorithm}
    result = runner.invoke(args=["certificates", "rotate-key"])
    assert result.exit_code == 0, result.output
    kids = [
        key["kid"] for key in app.test_client().get("/.well-known/jwks.json").get_json()["keys"]
    ]
    assert len(kids) == 4
    for kid in old.values():
        assert signing.key_url(app, kid) in kids and kid in result.output
