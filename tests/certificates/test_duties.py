"""Separation of duties on certificates: staff never revoke, suspend or reinstate their own."""

from __future__ import annotations

from flask import Flask

from core.audit import events_for
from core.db import get_db
from tests.certificates.fixtures import all_certificates, holder_client, passed_attempt
from tests.conftest import post_form
from tests.exam.fixtures import ExamWorld, grant_roles

OWN_MATTER = "https://csm-certify.example/problems/separation-of-duties"


def _decisions(app: Flask, code: str) -> list[str]:
    with get_db(app).read_sessions() as session:
        return [e.action for e in events_for(session, "certificate", code) if e.actor_id]


def test_a_holder_on_the_exam_team_cannot_decide_on_their_own_certificate(
    app: Flask, world: ExamWorld
) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    code = certificate.code
    grant_roles(app, world.people["ana"]["user"], "exam_admin")
    revoke = {"reason": "misconduct", "note": "Mine to revoke?"}
    refused = world.call("POST", f"/certificates/{code}/revocation", "ana", revoke, 403)
    assert refused.get_json()["type"] == OWN_MATTER
    assert "it is your own" in refused.get_json()["detail"]

    page = f"/certificates/{code}"
    shown = post_form(holder_client(app, world), page, f"{page}/suspend", {"decision-note": "Hold"})
    assert shown.status_code == 403 and "it is your own" in shown.text
    assert _decisions(app, code) == []
    [unchanged] = all_certificates(app)
    assert unchanged.revoked_at is None and unchanged.suspended_at is None

    world.call("POST", f"/certificates/{code}/suspension", "admin", {"note": "Complaint."}, 200)
    world.call("POST", f"/certificates/{code}/reinstatement", "ana", {"note": "Lift it."}, 403)
    assert _decisions(app, code) == ["certificate.suspended"]
    [held] = all_certificates(app)
    assert held.suspended_at is not None
