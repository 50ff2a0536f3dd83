"""A credential says what its programme says: the title, level, validity and description
of the programme whose blueprint was passed, one achievement per programme, and the
framework it aligns to by that framework's own title."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from certificates.models import Certificate
from certificates.services import link_token_for
from core.clock import add_months
from core.db import get_db
from tests.certificates.fixtures import holder_client
from tests.certificates.test_standards import BASE, schema_errors
from tests.exam.fixtures import ExamWorld, answer_all, pass_exam_on

PROGRAMME_DESCRIPTION = "Meets the Contributor standard of the sample competency model."


def _credential(app: Flask, world: ExamWorld, code: str) -> dict[str, Any]:
    response = holder_client(app, world).get(f"/certificates/{code}/credential.json")
    assert response.status_code == 200
    document: dict[str, Any] = json.loads(response.data)
    return document


def test_a_second_programme_issues_its_own_credential(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = pass_exam_on(world, app, "cscm-contributor")["code"]
    with app.app_context(), get_db(app).read_sessions() as session:
        certificate = session.scalars(select(Certificate).where(Certificate.code == code)).one()
        # The programme's wording, not the blueprint's ("Customer Success Competency Model").
        assert (certificate.title, certificate.level) == ("CSCM Contributor", "Contributor")
        assert certificate.programme_version_id is not None
        assert certificate.expires_at == add_months(certificate.issued_at, 12)

    document = _credential(app, world, code)
    assert schema_errors("achievementcredential", document) == []
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["id"] == f"{BASE}/achievements/cscm-contributor"
    assert achievement["name"] == document["name"] == "CSCM Contributor"
    assert achievement["description"] == PROGRAMME_DESCRIPTION
    assert achievement["tag"] == ["Contributor"]
    assert {a["targetFramework"] for a in achievement["alignment"]} == {
        "Customer Success Competency Model (sample)"
    }

    badge = app.test_client().get(achievement["image"]["id"].removeprefix(BASE))
    assert badge.status_code == 200 and badge.mimetype == "image/svg+xml"
    # The badge says the level once, on its ribbon.
    assert '<title id="badge-title">CSCM: Contributor badge</title>' in badge.get_data(as_text=True)


def _verify_page(app: Flask, code: str) -> str:
    with app.app_context():
        token = link_token_for(code)
    return app.test_client().get(f"/verify/{token}").get_data(as_text=True)


def test_the_verify_page_names_the_programme_level_and_framework(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = pass_exam_on(world, app, "cscm-contributor")["code"]
    page = _verify_page(app, code)
    assert "<dt>Credential</dt><dd>CSCM Contributor</dd>" in page
    assert "<dt>Level</dt><dd>Contributor</dd>" in page
    assert (
        '<a href="/framework?code=cscm-sample">Customer Success Competency Model (sample)</a> '
        "at its Contributor level"
    ) in page
    assert 'href="/framework?code=cscm-sample#REL">Customer Relationships</a>' in page
    first = pass_exam_on(world, app, "first-level")["code"]
    page = _verify_page(app, first)
    assert "<dt>Level</dt><dd>First Level</dd>" in page
    assert ">CSM Competency Standard: First Level</a>, meeting" in page


def test_the_first_level_keeps_its_achievement_and_badge_address(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = pass_exam_on(world, app, "first-level")["code"]
    achievement = _credential(app, world, code)["credentialSubject"]["achievement"]
    assert achievement["id"] == f"{BASE}/achievements/first-level"
    assert achievement["tag"] == ["First Level"]
    assert {a["targetFramework"] for a in achievement["alignment"]} == {
        "CSM Competency Standard: First Level"
    }
    assert app.test_client().get("/achievements/first-level/badge.svg").status_code == 200
    assert app.test_client().get("/achievements/no-such-thing/badge.svg").status_code == 404


def test_the_score_report_names_the_credential_and_its_level(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    sitting = world.schedule(blueprint="cscm-contributor", title="Contributor sitting")
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    answer_all(world, app, attempt, lambda code: True, "ana")
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert (result["credential"], result["level"]) == ("CSCM Contributor", "Contributor")

    page = holder_client(app, world).get(f"/exams/attempts/{attempt['id']}/result")
    text = " ".join(page.get_data(as_text=True).split())
    assert (
        "Examination for <strong>CSCM Contributor</strong>, level: <strong>Contributor</strong>"
        in text
    )
