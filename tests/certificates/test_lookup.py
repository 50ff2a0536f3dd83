"""The public lookup by code and family name: names in any Latin spelling, and a code with
a typo told apart from one that matches nothing."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from certificates import codes
from certificates.models import Certificate
from core.db import get_db
from tests.certificates.fixtures import all_certificates, passed_attempt
from tests.conftest import AppFactory, csrf_from
from tests.exam.fixtures import ExamWorld

# As the holder spells the name, and as someone at a plain keyboard types it.
NAMES = {
    "Lindqvist-Øre": "Lindqvist-Ore",
    "Ærøskøbing": "Aeroskobing",
    "Åberg": "Aberg",
    "Łukasiewicz": "Lukasiewicz",
    "Wróbel-Żak": "Wrobel-Zak",
    "Þórsdóttir": "Thorsdottir",
    "Guðmundsson": "Gudmundsson",
    "Nguyễn": "Nguyen",
    "Trần": "Tran",
    "Yıldız": "Yildiz",  # noqa: RUF001 (the dotless i is the point)
    "Işık": "Isik",  # noqa: RUF001
    "İnce": "Ince",
    "Öztürk": "Ozturk",
    "Çelik": "Celik",
    "Şahin": "Sahin",
    "Strauß": "Strauss",
    "O’Brien": "O'Brien",  # noqa: RUF001 (a typographic apostrophe)
}


def _spellings(own: str, plain: str) -> list[str]:
    """The name as typed by anyone: either spelling, in any case, composed or not."""
    return [
        own,
        own.upper(),
        own.lower(),
        unicodedata.normalize("NFD", own),
        plain,
        plain.upper(),
        plain.lower(),
    ]


def _rename_holder(app: Flask, family_name: str) -> None:
    """The certificate as if issued to a holder of that family name."""
    with get_db(app).write_sessions() as session:
        session.execute(update(Certificate).values(holder_family_name=family_name))
        session.commit()


def _page_lookup(client: FlaskClient, token: str, code: str, family_name: str) -> tuple[int, str]:
    form = {"csrf_token": token, "code": code, "family_name": family_name}
    answer = client.post("/verify", data=form)
    return answer.status_code, answer.get_data(as_text=True)


def _api_lookup(client: FlaskClient, code: str, family_name: str) -> tuple[int, dict]:
    answer = client.get(f"/api/v1/certificates/{code}?family_name={quote(family_name)}")
    return answer.status_code, answer.get_json()


class Lookups(NamedTuple):
    certificate: Certificate
    client: FlaskClient
    token: str  # the form's CSRF token in the client's session


@pytest.fixture
def lookups(app: Flask, make_app: AppFactory, world: ExamWorld) -> Lookups:
    """Ana's certificate, and a client of another server on the same database without
    rate limits (these tests make hundreds of lookups from one address)."""
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    return Lookups(certificate, client, csrf_from(client.get("/verify").get_data(as_text=True)))


def test_every_latin_family_name_is_found_by_its_own_and_its_plain_spelling(
    app: Flask, lookups: Lookups
) -> None:
    certificate, client, token = lookups
    for own, plain in NAMES.items():
        _rename_holder(app, own)
        spellings = _spellings(own, plain)
        for typed in spellings:
            status, page = _page_lookup(client, token, certificate.code, typed)
            assert status == 200 and "Valid certificate" in page, (own, typed)
            assert certificate.code in page
            status, body = _api_lookup(client, certificate.code, typed)
            assert status == 200 and body["code"] == certificate.code, (own, typed)
            assert body["holder"] == f"{certificate.holder_given_name} {own}"
        pairs = [{"code": certificate.code, "family_name": typed} for typed in spellings]
        batch = client.post("/api/v1/certificates/verify-batch", json={"certificates": pairs})
        assert [r["found"] for r in batch.get_json()["results"]] == [True] * len(pairs), own


def test_a_different_name_is_still_no_match(app: Flask, lookups: Lookups) -> None:
    certificate, client, token = lookups
    _rename_holder(app, "Lindqvist-Øre")
    for typed in ("Lindqvist", "Lindqvist-Oren", "Ore", "Lindqvist-Øre-Berg", "-", "\u0301"):
        status, page = _page_lookup(client, token, certificate.code, typed)
        assert status in (404, 422) and "Valid certificate" not in page, typed
        assert _api_lookup(client, certificate.code, typed)[0] == 404, typed
    _rename_holder(app, "李")  # another script: itself, or its romanisation
    assert _api_lookup(client, certificate.code, "李")[0] == 200
    assert _api_lookup(client, certificate.code, "Li")[0] == 200
    assert _api_lookup(client, certificate.code, "王")[0] == 404


TYPO = "This code has a typo: check it against the certificate"
NO_MATCH = "No matching certificate"


def _one_character_changed(code: str) -> str:
    """The code as someone might misread it: one character of its data changed."""
    body = code.replace("-", "")[len(codes.PREFIX) :]
    changed = next(char for char in codes.ALPHABET if char != body[3]) + body[4:]
    return f"{codes.PREFIX}-{body[:3]}{changed[:1]}-{changed[1:5]}-{changed[5:]}"


def test_a_code_with_a_typo_is_told_apart_from_one_that_matches_nothing(
    app: Flask, world: ExamWorld
) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    family = certificate.holder_family_name
    typo = _one_character_changed(certificate.code)
    stranger_typo = _one_character_changed(codes.new_code())
    unknown = codes.new_code()  # well formed, and nobody's
    assert codes.normalise(typo) is None and codes.normalise(unknown) == unknown
    client = app.test_client()
    token = csrf_from(client.get("/verify").get_data(as_text=True))

    for code in (typo, stranger_typo):  # the same answer whether a certificate is near or not
        status, page = _page_lookup(client, token, code, family)
        assert status == 422 and TYPO in page and NO_MATCH not in page, code
        [code_input] = re.findall(r'<input[^>]*id="code"[^>]*>', page)
        assert 'aria-invalid="true"' in code_input  # said on the field it is about
    for code, name in ((unknown, family), (certificate.code, "Nobody")):
        status, page = _page_lookup(client, token, code, name)
        assert status == 404 and NO_MATCH in page and TYPO not in page, code

    answers = {code: _api_lookup(client, code, family) for code in (typo, stranger_typo, unknown)}
    for code in (typo, stranger_typo):
        status, body = answers[code]
        assert status == 422 and body["reason"] == "typo" and TYPO in body["detail"]
        assert body["errors"] == [{"field": "code", "message": body["detail"]}]
    assert {k: v for k, v in answers[typo][1].items() if k != "instance"} == {
        k: v for k, v in answers[stranger_typo][1].items() if k != "instance"
    }
    status, body = answers[unknown]
    assert status == 404 and body["reason"] == "no_match" and NO_MATCH in body["detail"]

    pairs = [
        (certificate.code, family),
        (typo, family),
        (unknown, family),
        (certificate.code, "Nobody"),
    ]
    batch = client.post(
        "/api/v1/certificates/verify-batch",
        json={"certificates": [{"code": code, "family_name": name} for code, name in pairs]},
    )
    results = batch.get_json()["results"]
    assert [(r["code"], r["found"], r.get("reason")) for r in results] == [
        (certificate.code, True, None),
        (typo, False, "typo"),
        (unknown, False, "no_match"),
        (certificate.code, False, "no_match"),
    ]
    assert results[0]["certificate"]["status"] == "valid" and "message" not in results[0]
    assert TYPO in results[1]["message"] and NO_MATCH in results[2]["message"]
    assert "certificate" not in results[1]


def test_a_typo_counts_against_the_limits_like_a_miss(app: Flask, world: ExamWorld) -> None:
    client = app.test_client()
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    typo = _one_character_changed(codes.new_code())
    statuses = [_page_lookup(client, token, typo, "X")[0] for _ in range(5)]
    statuses += [_page_lookup(client, token, codes.new_code(), "X")[0] for _ in range(5)]
    statuses.append(_page_lookup(client, token, typo, "X")[0])
    assert statuses == [422] * 5 + [404] * 5 + [429]

    pairs = [{"code": typo, "family_name": "X"}] * 100
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.8.7"  # another address: a fresh budget
    answers = [
        other.post("/api/v1/certificates/verify-batch", json={"certificates": pairs}).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]  # every typo of a batch spends the hour's budget
    assert other.get(f"/api/v1/certificates/{typo}?family_name=X").status_code == 429
