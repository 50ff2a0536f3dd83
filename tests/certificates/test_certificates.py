"""Certificates: codes with a check character, issue on a pass, verification by link and lookup."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from certificates import codes, services
from certificates.models import Certificate
from core.db import get_db
from tests.certificates.fixtures import all_certificates, passed_attempt
from tests.conftest import post_form, sign_in
from tests.exam.fixtures import ExamWorld, key_map


def test_codes_catch_any_single_mistyped_character() -> None:
    code = codes.new_code()
    assert code.startswith("CSM1-") and len(code) == 19
    assert codes.normalise(code.lower().replace("-", " ")) == code
    body = code.replace("-", "")[4:]
    for index in range(len(body) - 1):
        for char in codes.ALPHABET:
            if char != body[index]:
                typo = body[:index] + char + body[index + 1 :]
                assert codes.normalise("CSM1" + typo) is None, (code, index, char)
    assert codes.normalise("CSM1-0000") is None and codes.normalise("XYZ") is None


def test_a_pass_issues_exactly_one_certificate_that_verifies(app: Flask, world: ExamWorld) -> None:
    attempt = passed_attempt(app, world)
    world.call(
        "POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200
    )  # a second submit changes nothing
    [certificate] = all_certificates(app)
    assert (certificate.holder_given_name, certificate.credential) == (
        "Ana",
        "CSM Competency Standard: First Level",
    )
    assert (certificate.expires_at - certificate.issued_at).days in range(729, 733)
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    assert certificate.code in ana.get("/certificates").get_data(as_text=True)
    mine = ana.get(f"/certificates/{certificate.code}").get_data(as_text=True)
    link = mine.split('href="http://localhost/verify/')[1].split('"')[0]
    public = app.test_client().get(f"/verify/{link}")
    page = public.get_data(as_text=True)
    assert public.status_code == 200 and "Valid certificate" in page and certificate.code in page
    assert world.people["ana"]["user"].email not in page and "%" not in page
    forged = app.test_client().get(f"/verify/{link[:-2]}xx")
    assert forged.status_code == 400 and "not genuine" in forged.get_data(as_text=True)
    assert certificate.code not in forged.get_data(as_text=True)


def test_lookup_by_code_and_family_name_reveals_nothing_else(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    client = app.test_client()
    family = certificate.holder_family_name
    accented = family.upper().replace("I", "Î")  # case and accents do not matter
    found = post_form(
        client, "/verify", "/verify", {"code": certificate.code.lower(), "family_name": accented}
    )
    assert found.status_code == 200 and "Valid certificate" in found.get_data(as_text=True)
    wrong_name = post_form(
        client, "/verify", "/verify", {"code": certificate.code, "family_name": "Nobody"}
    )
    unknown = post_form(
        client, "/verify", "/verify", {"code": codes.new_code(), "family_name": family}
    )
    assert wrong_name.status_code == unknown.status_code == 404
    assert "No matching certificate" in wrong_name.get_data(as_text=True)
    assert "No matching certificate" in unknown.get_data(as_text=True)


def test_lookups_are_rate_limited_per_address(app: Flask, world: ExamWorld) -> None:
    client = app.test_client()
    statuses = [
        post_form(
            client, "/verify", "/verify", {"code": codes.new_code(), "family_name": "X"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [404] * 10 and statuses[10] == 429


def test_losing_the_pass_on_rescoring_revokes_the_certificate(app: Flask, world: ExamWorld) -> None:
    attempt = passed_attempt(app, world)

    wrong_keys = {}
    for position, (code, keys, order) in key_map(app, attempt["id"]).items():
        if code.startswith("CO.KN"):
            wrong_keys[position] = next(letter for letter in order if letter not in keys)
    with get_db(app).read_sessions() as session:
        from exam.models import AttemptItem

        items = dict(
            session.execute(
                select(AttemptItem.position, AttemptItem.item_id).where(
                    AttemptItem.attempt_id == attempt["id"]
                )
            ).all()
        )
    for position, letter in wrong_keys.items():
        world.call(
            "POST",
            f"/items/{items[position]}/invalidate",
            "admin",
            {"action": "correct_key", "keys": [letter], "reason": "Key was wrong"},
            200,
        )
    [certificate] = all_certificates(app)
    assert certificate.revocation_reason == "rescoring"
    with app.app_context(), get_db(app).read_sessions() as session:
        assert services.status(session.get(Certificate, certificate.id)) == "revoked"


def test_the_json_verification_api(app: Flask, world: ExamWorld) -> None:
    attempt = passed_attempt(app, world)
    [certificate] = all_certificates(app)
    client = app.test_client()
    family = certificate.holder_family_name
    body = client.get(
        f"/api/v1/certificates/{certificate.code}?family_name={family.lower()}"
    ).get_json()
    assert (body["code"], body["status"], body["holder"]) == (
        certificate.code,
        "valid",
        certificate.holder_name,
    )
    assert "email" not in body and "score" not in str(body)
    miss = client.get(f"/api/v1/certificates/{certificate.code}?family_name=Nobody")
    assert miss.status_code == 404 and miss.mimetype == "application/problem+json"
    batch = client.post(
        "/api/v1/certificates/verify-batch",
        json={
            "certificates": [
                {"code": certificate.code, "family_name": family},
                {"code": "CSM1-0000-0000-0000", "family_name": family},
            ]
        },
    )
    assert [r["found"] for r in batch.get_json()["results"]] == [True, False]
    too_many = client.post(
        "/api/v1/certificates/verify-batch",
        json={"certificates": [{"code": "x", "family_name": "y"}] * 101},
    )
    assert too_many.status_code == 422
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    link = (
        ana.get(f"/certificates/{certificate.code}")
        .get_data(as_text=True)
        .split('href="http://localhost/verify/')[1]
        .split('"')[0]
    )
    assert client.get(f"/verify/{link}.json").get_json()["code"] == certificate.code
    forged = client.get(f"/verify/{link[:-3]}abc.json")
    assert forged.status_code == 400 and forged.mimetype == "application/problem+json"
    assert attempt["id"]
