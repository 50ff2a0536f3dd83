"""The API for holders and staff: each holder's certificates, and staff decisions on them
through the same service as the staff page (its rules, lock and audit)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from certificates.models import Certificate
from core.audit import events_for
from core.db import get_db
from tests.certificates.fixtures import (
    all_certificates,
    holder_client,
    passed_attempt,
)
from tests.conftest import post_form
from tests.exam.fixtures import ExamWorld


def _issued(app: Flask, world: ExamWorld) -> Certificate:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    return certificate


def _listed(world: ExamWorld, who: str, query: str = "") -> list[str]:
    body = world.call("GET", f"/certificates{query}", who, expect=200).get_json()
    assert body["total"] == len(body["certificates"])
    return [certificate["code"] for certificate in body["certificates"]]


def test_a_holder_lists_their_own_certificates_and_staff_anyones(
    app: Flask, world: ExamWorld
) -> None:
    certificate = _issued(app, world)
    body = world.call("GET", "/certificates", "ana", expect=200).get_json()
    assert (body["total"], body["page"], body["pages"]) == (1, 1, 1)
    [mine] = body["certificates"]
    assert mine["code"] == certificate.code and mine["status"] == "valid"
    assert mine["title"] == "CSM Competency Standard: First Level"
    assert mine["level"] == certificate.level and mine["holder_id"] == world.id("ana")
    assert mine["issued_on"] == certificate.issued_at.date().isoformat()
    assert mine["expires_on"] == certificate.expires_at.date().isoformat()
    assert mine["revoked_on"] is mine["suspended_on"] is mine["revocation_reason"] is None
    links = mine["links"]
    assert set(links) == {
        "page",
        "verify",
        "credential_jwt",
        "credential_json",
        "badge_png",
        "pdf",
    }
    ana = holder_client(app, world)
    for name, url in links.items():  # each link answers, where the holder's page says
        assert url.startswith("http://localhost/"), name
        answer = app.test_client().get(url) if name == "verify" else ana.get(urlsplit(url).path)
        assert answer.status_code == 200, (name, url)
    assert links["pdf"].endswith(".pdf") and links["credential_jwt"].endswith(".jwt")
    assert certificate.code in app.test_client().get(links["verify"]).get_data(as_text=True)
    assert _listed(world, "ana", f"?holder={world.people['ana']['user'].email.upper()}") == [
        certificate.code
    ]

    assert _listed(world, "ben") == []  # another candidate sees none of hers
    ben_asks = world.call("GET", f"/certificates?holder={world.id('ana')}", "ben", expect=403)
    assert ben_asks.mimetype == "application/problem+json"
    world.call("GET", "/certificates?holder=nobody@example.org", "ben", expect=403)
    assert world.client.get("/api/v1/certificates").status_code == 401

    assert _listed(world, "admin") == [certificate.code]
    assert _listed(world, "admin", f"?holder={world.id('ana')}") == [certificate.code]
    email = world.people["ana"]["user"].email
    assert _listed(world, "admin", f"?holder={email}") == [certificate.code]
    assert _listed(world, "admin", f"?holder={world.id('ben')}") == []
    assert _listed(world, "admin", "?holder=nobody@example.org") == []
    assert _listed(world, "admin", "?holder=99999999999") == []
    paged = world.call("GET", "/certificates?page=2&per_page=1", "admin", expect=200).get_json()
    assert (paged["page"], paged["pages"], paged["total"]) == (1, 1, 1)  # the last page
    refused = world.call("GET", "/certificates?per_page=500", "admin", expect=422).get_json()
    assert [error["field"] for error in refused["errors"]] == ["per_page"]


def _decide(world: ExamWorld, who: str, code: str, step: str, body: dict, expect: int) -> dict:
    return world.call("POST", f"/certificates/{code}/{step}", who, body, expect).get_json()


def test_staff_revoke_through_the_api_shows_at_once_everywhere_and_is_audited(
    app: Flask, world: ExamWorld
) -> None:
    certificate = _issued(app, world)
    code, family = certificate.code, certificate.holder_family_name
    revoke = {"reason": "misconduct", "note": "Another person sat the exam."}
    for step, body in (
        ("revocation", revoke),
        ("suspension", {"note": "x"}),
        ("reinstatement", {"note": "x"}),
    ):
        _decide(world, "ben", code, step, body, 404)  # not hers: as if it did not exist
        _decide(world, "ana", code, step, body, 403)  # her own, but only staff decide
        answer = world.client.post(f"/api/v1/certificates/{code}/{step}", json=body)
        assert answer.status_code == 401
    _decide(world, "admin", "CSM1-0000-0000-0000", "revocation", revoke, 404)

    bad = _decide(world, "admin", code, "revocation", {**revoke, "reason": "boredom"}, 422)
    assert [error["field"] for error in bad["errors"]] == ["reason"]
    no_note = _decide(world, "admin", code, "revocation", {**revoke, "note": "  "}, 422)
    assert [error["field"] for error in no_note["errors"]] == ["note"]
    valid_already = _decide(world, "admin", code, "reinstatement", {"note": "x"}, 409)
    assert "neither revoked nor suspended" in valid_already["detail"]

    done = _decide(world, "admin", code, "revocation", revoke, 200)
    assert (done["code"], done["status"], done["revocation_reason"]) == (
        code,
        "revoked",
        "misconduct",
    )
    assert done["revoked_on"] == world.clock.now().date().isoformat()
    public = app.test_client()
    shown = public.get(f"/api/v1/certificates/{code}?family_name={family}").get_json()
    assert shown["status"] == "revoked" and shown["revocation_reason"] == "Misconduct"
    page = public.get(urlsplit(done["links"]["verify"]).path).get_data(as_text=True)
    assert "Revoked certificate" in page and "Misconduct" in page
    assert "Another person" not in page  # the note is for staff only
    looked_up = post_form(public, "/verify", "/verify", {"code": code, "family_name": family})
    assert "Revoked certificate" in looked_up.get_data(as_text=True)
    with get_db(app).read_sessions() as session:
        trail = [
            (event.action, event.actor_id, (event.after or {}).get("note"))
            for event in events_for(session, "certificate", code)
        ]
    assert ("certificate.revoked", world.id("admin"), revoke["note"]) in trail
    again = _decide(world, "admin", code, "revocation", revoke, 409)
    assert "already revoked" in again["detail"]
    assert _decide(world, "admin", code, "suspension", {"note": "x"}, 409)["status"] == 409


def test_suspend_and_reinstate_round_trip(app: Flask, world: ExamWorld) -> None:
    certificate = _issued(app, world)
    code, family = certificate.code, certificate.holder_family_name

    def public_status() -> str:
        answer = app.test_client().get(f"/api/v1/certificates/{code}?family_name={family}")
        return answer.get_json()["status"]

    suspended = _decide(world, "admin", code, "suspension", {"note": "Complaint received."}, 200)
    assert suspended["status"] == "suspended" and suspended["suspended_on"]
    assert public_status() == "suspended"
    _decide(world, "admin", code, "suspension", {"note": "Twice."}, 409)
    reinstated = _decide(world, "admin", code, "reinstatement", {"note": "Cleared."}, 200)
    assert reinstated["status"] == "valid" and reinstated["suspended_on"] is None
    assert public_status() == "valid"
    _decide(world, "admin", code, "reinstatement", {"note": "Again."}, 409)
    with get_db(app).read_sessions() as session:
        actions = [event.action for event in events_for(session, "certificate", code)]
    assert actions.count("certificate.suspended") == actions.count("certificate.reinstated") == 1


def test_the_attempt_result_names_its_certificate(app: Flask, world: ExamWorld) -> None:
    attempt = passed_attempt(app, world)
    [certificate] = all_certificates(app)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert result["result"] == "pass"
    assert result["certificate"] == {
        "code": certificate.code,
        "url": f"http://localhost/certificates/{certificate.code}",
        "status": "valid",
    }
    page = holder_client(app, world).get(urlsplit(result["certificate"]["url"]).path)
    assert page.status_code == 200 and certificate.code in page.get_data(as_text=True)
    revoke = {"reason": "issued_in_error", "note": "Wrong candidate."}
    _decide(world, "admin", certificate.code, "revocation", revoke, 200)
    staff_view = world.call("GET", f"/attempts/{attempt['id']}/result", "admin", expect=200)
    assert staff_view.get_json()["certificate"]["status"] == "revoked"
