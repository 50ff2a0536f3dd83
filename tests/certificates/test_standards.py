"""Our credentials against the published standards, offline: the Open Badges 3.0 JSON
Schemas, the JSON-LD contexts (no term dropped), the OB 3.0 VC-JWT rules, and an
independent verifier (Digital Bazaar's libraries under Node) for the embedded proof."""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import shutil
import subprocess
import uuid
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft201909Validator, FormatChecker
from jwcrypto import jwk
from jwcrypto import jwt as jose_jwt
from PIL import Image
from pyld import jsonld

from certificates import data_integrity
from certificates.jsonld import CONTEXT_FILES
from tests.certificates.fixtures import (
    all_certificates,
    holder_client,
    passed_attempt,
    staff_client,
)
from tests.conftest import post_form
from tests.exam.fixtures import ExamWorld

REPO = Path(__file__).resolve().parents[2]
STANDARDS = REPO.parent / "shared" / "standards"
NODE_VERIFIER = REPO / "tests" / "verifiers" / "node" / "verify.mjs"
BASE = "http://localhost"
YEAR = 365 * 86_400


def _schema(name: str) -> Draft201909Validator:
    schema = json.loads((STANDARDS / "ob3" / f"{name}.schema.json").read_text())
    return Draft201909Validator(schema, format_checker=FormatChecker())


def schema_errors(name: str, document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _schema(name).iter_errors(document)
    ]


def _load_local(url: str, options: object = None) -> dict[str, Any]:
    """The test's own document loader: the published files, nothing else."""
    path = STANDARDS / CONTEXT_FILES[url]
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(path.read_text())}


def _keys(node: object, path: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for name, value in node.items():
            if name != "@context":
                found |= {f"{path}/{name}"} | _keys(value, f"{path}/{name}")
    elif isinstance(node, list):
        for value in node:
            found |= _keys(value, path)
    return found


def dropped_terms(document: dict[str, Any]) -> list[str]:
    """The properties JSON-LD expansion loses: a term no context defines is dropped
    silently, so expand, compact back with the document's own context and compare."""
    options = {"documentLoader": _load_local}
    expanded = jsonld.expand(document, options)
    back = jsonld.compact(expanded, {"@context": document["@context"]}, options)
    return sorted(_keys(document) - _keys(back))


def _local(url: str) -> str:
    return url.removeprefix(BASE)


class Credentials:
    """A passed certificate and the ways to fetch what an outside verifier fetches."""

    def __init__(self, app: Flask, world: ExamWorld) -> None:
        passed_attempt(app, world)
        [self.certificate] = all_certificates(app)
        self.app, self.world = app, world
        self.holder = holder_client(app, world)
        self.public: FlaskClient = app.test_client()
        self.staff = staff_client(app, world)
        self.page = f"/certificates/{self.certificate.code}"

    def document(self) -> dict[str, Any]:
        response = self.holder.get(f"{self.page}/credential.json")
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        document: dict[str, Any] = json.loads(response.data)
        return document

    def token(self) -> str:
        return self.holder.get(f"{self.page}/credential.jwt").get_data(as_text=True)

    def issuer(self) -> dict[str, Any]:
        issuer: dict[str, Any] = json.loads(self.public.get("/issuer").data)
        return issuer

    def status_list(self, url: str) -> dict[str, Any]:
        response = self.public.get(_local(url), headers={"Accept": "application/ld+json"})
        assert response.mimetype == "application/ld+json"
        listed: dict[str, Any] = json.loads(response.data)
        return listed

    def decide(self, decision: str, **fields: str) -> None:
        response = post_form(self.staff, self.page, f"{self.page}/{decision}", fields)
        assert response.status_code == 302

    def verify(self, **body: object) -> dict[str, Any]:
        response = self.public.post("/api/v1/credentials/verify", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        verdict: dict[str, Any] = response.get_json()
        return verdict


@pytest.fixture
def app(make_app: Any, request: pytest.FixtureRequest) -> Flask:
    """The usual app, or one with the settings a test passes by indirect parametrisation."""
    made: Flask = make_app(**getattr(request, "param", {}))
    return made


@pytest.fixture
def issued(app: Flask, world: ExamWorld) -> Credentials:
    return Credentials(app, world)


# ---- the OB 3.0 schemas ------------------------------------------------------------------


def test_the_credential_passes_the_ob3_schema_in_every_status(issued: Credentials) -> None:
    seen: dict[str, list[str]] = {}

    def record(status: str) -> None:
        document = issued.document()
        seen[status] = schema_errors("achievementcredential", document)
        token_vc = json.loads(base64.urlsafe_b64decode(issued.token().split(".")[1] + "==="))["vc"]
        assert token_vc == document  # the JWT carries the same proven credential
        answer = issued.public.get(
            f"/api/v1/certificates/{issued.certificate.code}",
            query_string={"family_name": issued.certificate.holder_family_name},
        )
        assert answer.get_json()["status"] == status

    record("valid")
    issued.decide("suspend", **{"decision-note": "Complaint under review.", "confirmed": "yes"})
    record("suspended")
    issued.decide("reinstate", **{"decision-note": "Complaint dismissed.", "confirmed": "yes"})
    record("valid")  # reinstated
    issued.decide(
        "revoke", **{"revoke-reason": "misconduct", "revoke-note": "Proxy.", "confirmed": "yes"}
    )
    record("revoked")
    issued.decide("reinstate", **{"decision-note": "Appeal upheld.", "confirmed": "yes"})
    issued.world.clock.advance(seconds=3 * YEAR)
    issued.holder = holder_client(issued.app, issued.world)  # the old session has ended
    record("expired")
    assert seen == {status: [] for status in ("valid", "suspended", "revoked", "expired")}
    assert schema_errors("achievementcredential", {"type": ["VerifiableCredential"]})  # can fail


def test_the_issuer_profile_is_a_controller_document_whose_keys_dereference(
    issued: Credentials,
) -> None:
    issued.token()  # both keys have signed
    profile = issued.issuer()
    assert schema_errors("profile", profile) == []
    assert "https://www.w3.org/ns/cid/v1" in profile["@context"]
    published = issued.public.get("/.well-known/jwks.json").get_json()["keys"]
    assert {key["alg"] for key in published} == {"RS256", "EdDSA"}
    by_thumbprint = {key["kid"].rsplit("/", 1)[1]: key for key in published}
    methods = {method["id"]: method for method in profile["verificationMethod"]}
    assert set(profile["assertionMethod"]) == set(methods)
    for method_id, method in methods.items():
        document_url, fragment = method_id.split("#")
        assert document_url == profile["id"] == method["controller"] == f"{BASE}/issuer"
        jwk_published = by_thumbprint[fragment]
        if method["type"] == "Multikey":
            raw = base58.b58decode(method["publicKeyMultibase"][1:])
            assert raw[:2] == b"\xed\x01"
            x = base64.urlsafe_b64encode(raw[2:]).rstrip(b"=").decode()
            assert x == jwk_published["x"]
        else:
            assert method["type"] == "JsonWebKey"
            assert method["publicKeyJwk"]["n"] == jwk_published["n"]
    for key in published:  # each kid is a URL returning that very JWK
        served = issued.public.get(_local(key["kid"]))
        assert served.status_code == 200 and served.get_json() == key
    assert issued.public.get("/issuer/keys/not-a-key").status_code == 404


def test_json_ld_expansion_drops_no_term(issued: Credentials) -> None:
    document = issued.document()
    status_list = issued.status_list(document["credentialStatus"]["statusListCredential"])
    for published in (document, issued.issuer(), status_list):
        assert dropped_terms(published) == []
    assert dropped_terms({**document, "jti": document["id"]}) == ["/jti"]  # the check bites


# ---- VC-JWT as OB 3.0 says ------------------------------------------------------------


def _header_and_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, payload, _ = token.split(".")
    return tuple(json.loads(base64.urlsafe_b64decode(part + "===")) for part in (head, payload))  # type: ignore[return-value]


def test_the_vc_jwt_has_the_header_and_claims_ob3_asks_for(issued: Credentials) -> None:
    token = issued.token()
    header, claims = _header_and_claims(token)
    assert header.keys() == {"alg", "kid", "typ"} and header["typ"] == "JWT"
    assert header["alg"] == "RS256"
    vc = claims["vc"]
    assert claims["iss"] == vc["issuer"]["id"] and claims["jti"] == vc["id"]
    assert claims["sub"] == vc["credentialSubject"]["id"]
    assert claims["nbf"] == int(issued.certificate.issued_at.timestamp())
    assert claims["exp"] == int(issued.certificate.expires_at.timestamp())
    # A general JOSE library verifies it from the key its kid URL returns.
    key = jwk.JWK(**issued.public.get(_local(header["kid"])).get_json())
    checked = jose_jwt.JWT(algs=["RS256"], check_claims={"exp": claims["nbf"] + 60})
    checked.deserialize(token, key)
    assert json.loads(checked.claims)["sub"] == claims["sub"]


def test_the_subject_id_is_stable_and_reveals_nothing(issued: Credentials) -> None:
    first = issued.document()["credentialSubject"]["id"]
    assert first.startswith("urn:uuid:") and len(first) == 45
    holder = issued.world.people["ana"]["user"]
    for private in (holder.email, holder.family_name, holder.given_name):
        assert private.casefold() not in first.casefold()
    assert uuid.UUID(first.removeprefix("urn:uuid:")).version == 4  # drawn at random
    assert issued.document()["credentialSubject"]["id"] == first


@pytest.mark.parametrize("app", [{"CERT_JWT_ALGORITHM": "EdDSA"}], indirect=True)
def test_eddsa_can_sign_the_jwt_instead(issued: Credentials) -> None:
    header, _ = _header_and_claims(issued.token())
    assert header["alg"] == "EdDSA"
    assert issued.verify(credential=issued.token())["verified"] is True


# ---- the embedded proof, by an independent implementation ----------------------------


def _node_verdict(
    issued: Credentials, document: dict[str, Any], later_by: int = 60
) -> dict[str, Any]:
    """Digital Bazaar's verifier (tests/verifiers/node), given the credential, the
    issuer's controller document and the status list as the app serves them."""
    status_url = document["credentialStatus"]["statusListCredential"]
    documents = {f"{BASE}/issuer": issued.issuer(), status_url: issued.status_list(status_url)}
    moment = issued.world.clock.now() + timedelta(seconds=later_by)
    now = f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    workdir = Path(issued.app.instance_path)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "credential.json").write_text(json.dumps(document))
    (workdir / "documents.json").write_text(json.dumps(documents))
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the independent verifier"
    # Blocking, with no timeout: under faketime (make test-later) a timed wait can fail,
    # and the child gets no faked clock, since it judges time by --now alone.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC"}
    }
    finished = subprocess.run(
        [
            node,
            str(NODE_VERIFIER),
            "--credential",
            str(workdir / "credential.json"),
            "--documents",
            str(workdir / "documents.json"),
            "--now",
            now,
        ],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    assert finished.returncode in (0, 1), finished.stderr
    verdict: dict[str, Any] = json.loads(finished.stdout)
    assert verdict["verified"] is (finished.returncode == 0)
    return verdict


def _failed(verdict: dict[str, Any]) -> set[str]:
    return {name for name, check in verdict["checks"].items() if not check["passed"]}


def test_digital_bazaars_verifier_accepts_the_proof_and_catches_each_fault(
    issued: Credentials,
) -> None:
    document = issued.document()
    assert _node_verdict(issued, document)["verified"] is True

    edited = copy.deepcopy(document)
    edited["name"] = edited["name"].replace("C", "D", 1)  # one character changed
    assert _failed(_node_verdict(issued, edited)) == {"proof"}

    forged = data_integrity.with_proof(
        issued.app,
        {name: value for name, value in document.items() if name != "proof"},
        Ed25519PrivateKey.generate(),
        document["proof"][0]["verificationMethod"],  # claims our key, signed with another
        issued.certificate.issued_at,
    )
    assert _failed(_node_verdict(issued, forged)) == {"proof"}

    assert _failed(_node_verdict(issued, document, later_by=3 * YEAR)) >= {"validity"}

    issued.decide(
        "revoke", **{"revoke-reason": "misconduct", "revoke-note": "Proxy.", "confirmed": "yes"}
    )
    assert _failed(_node_verdict(issued, document)) == {"status"}


# ---- our own verifier: every way a credential can be wrong -----------------------------


def test_the_verify_api_names_the_failed_check_for_each_bad_credential(
    issued: Credentials,
) -> None:
    token, document = issued.token(), issued.document()
    assert issued.verify(credential=token)["verified"] is True
    assert issued.verify(credential=document)["verified"] is True

    head, payload, signature = token.split(".")
    flipped = payload[:60] + ("A" if payload[60] != "A" else "B") + payload[61:]
    verdict = issued.verify(credential=f"{head}.{flipped}.{signature}")
    assert verdict["checks"] == {
        "signature": {"passed": False, "detail": "The signature does not match the content."}
    }

    stranger = jwk.JWK.generate(kty="RSA", size=2048)
    for kid in (f"{BASE}/issuer/keys/unknown", "https://elsewhere.example/keys/1"):
        forged = jose_jwt.JWT(header={"alg": "RS256", "kid": kid, "typ": "JWT"}, claims={"a": 1})
        forged.make_signed_token(stranger)
        verdict = issued.verify(credential=forged.serialize())
        assert verdict["verified"] is False
        assert (
            verdict["checks"]["signature"]["detail"] == "Not signed by one of our published keys."
        )

    stripped = {name: value for name, value in document.items() if name != "proof"}
    verdict = issued.verify(credential=stripped)
    assert verdict["checks"] == {
        "proof": {"passed": False, "detail": "The credential carries no embedded proof."}
    }
    edited = copy.deepcopy(document)
    edited["validUntil"] = "2099-01-01T00:00:00Z"
    assert issued.verify(credential=edited)["checks"]["proof"] == {
        "passed": False,
        "detail": "The proof does not match the content.",
    }
    tampered_proof = copy.deepcopy(document)
    value = tampered_proof["proof"][0]["proofValue"]
    tampered_proof["proof"][0]["proofValue"] = value[:-3] + (
        "111" if value[-3:] != "111" else "222"
    )
    assert issued.verify(credential=tampered_proof)["checks"]["proof"]["passed"] is False
    unknown_method = copy.deepcopy(document)
    unknown_method["proof"][0]["verificationMethod"] = f"{BASE}/issuer#someone-else"
    assert issued.verify(credential=unknown_method)["checks"]["proof"] == {
        "passed": False,
        "detail": "The proof names a key the issuer does not publish.",
    }
    garbled = copy.deepcopy(document)
    garbled["@context"] = ["https://example.org/unknown-context"]
    verdict = issued.verify(credential=garbled)
    assert verdict["verified"] is False and verdict["checks"]["proof"]["passed"] is False

    none = issued.public.post("/api/v1/credentials/verify", json={})
    assert none.status_code == 422 and none.mimetype == "application/problem+json"
    both = issued.public.post(
        "/api/v1/credentials/verify", json={"credential": token, "badge_png": "AAAA"}
    )
    assert both.status_code == 422
    not_base64 = issued.public.post("/api/v1/credentials/verify", json={"badge_png": "%%%"})
    assert not_base64.status_code == 422 and "badge_png" in not_base64.get_data(as_text=True)


# ---- the baked badge -----------------------------------------------------------------


def _png_b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_the_baked_badge_carries_a_credential_any_png_reader_finds(issued: Credentials) -> None:
    response = issued.holder.get(f"{issued.page}/badge.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data))
    baked = image.text["openbadgecredential"]  # type: ignore[attr-defined]
    header, claims = _header_and_claims(baked)
    key = jwk.JWK(**issued.public.get(_local(header["kid"])).get_json())
    checked = jose_jwt.JWT(algs=["RS256"], check_claims={"exp": claims["nbf"] + 60})
    checked.deserialize(baked, key)
    assert json.loads(checked.claims)["vc"]["id"] == claims["jti"]
    verdict = issued.verify(badge_png=_png_b64(response.data))
    assert verdict["verified"] is True and verdict["checks"]["badge"]["passed"]

    plain = io.BytesIO()
    image.copy().save(plain, format="PNG")  # the picture without its chunk
    verdict = issued.verify(badge_png=_png_b64(plain.getvalue()))
    assert verdict["verified"] is False and list(verdict["checks"]) == ["badge"]
    at = response.data.index(b"openbadgecredential") + 40
    corrupted = response.data[:at] + bytes([response.data[at] ^ 1]) + response.data[at + 1 :]
    verdict = issued.verify(badge_png=_png_b64(corrupted))
    assert verdict["verified"] is False and list(verdict["checks"]) == ["badge"]
    assert verdict["checks"]["badge"]["detail"] != verdict["checks"]["badge"]["detail"].upper()

    assert issued.public.get(f"{issued.page}/badge.png").status_code == 302  # sign in first
    achievement = issued.document()["credentialSubject"]["achievement"]["image"]["id"]
    svg = issued.public.get(_local(achievement))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert issued.certificate.holder_family_name not in svg.get_data(as_text=True)
