"""The public lookup by code and family name: names in any Latin spelling, and a code with
a typo told apart from one that matches nothing."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

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
