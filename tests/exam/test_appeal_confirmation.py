"""An appeal decision is asked twice: first what it would do to the result and the
certificate, worked out and rolled back, then, confirmed, it is taken."""

from __future__ import annotations

import re

from flask import Flask

from tests.certificates.fixtures import all_certificates, passed_attempt
from tests.conftest import post_form, sign_in
from tests.exam.fixtures import ExamWorld


def test_voiding_a_pass_on_appeal_says_the_certificate_goes_and_waits(
    app: Flask, world: ExamWorld
) -> None:
    attempt = passed_attempt(app, world)
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    result = f"/exams/attempts/{attempt['id']}/result"
    assert post_form(ana, result, result, {"statement": "I was helped."}).status_code == 303
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    queue = admin.get("/staff/appeals").get_data(as_text=True)
    appeal_id = re.search(r'name="appeal_id" value="(\d+)"', queue)
    assert appeal_id
    decision = {"appeal_id": appeal_id.group(1), "decision": "uphold:void", "reason": "Aid seen."}

    asked = post_form(admin, "/staff/appeals", "/staff/appeals", decision)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "The result stands at <strong>pass, 100.0 %" in text
    assert "certificate for this attempt is revoked at once" in text
    assert 'name="confirmed" value="yes"' in text
    (certificate,) = all_certificates(app)
    assert certificate.revoked_at is None  # nothing changed yet
    assert world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()["result"] == (
        "pass"
    )

    rescore = {**decision, "decision": "uphold:rescore"}
    same = post_form(admin, "/staff/appeals", "/staff/appeals", rescore).get_data(as_text=True)
    assert "the result stays <strong>pass, 100.0 %" in same and "revoked" not in same

    done = post_form(admin, "/staff/appeals", "/staff/appeals", {**decision, "confirmed": "yes"})
    assert done.status_code == 303
    (certificate,) = all_certificates(app)
    assert certificate.revoked_at is not None
    assert world.call("GET", f"/attempts/{attempt['id']}/result", "ana").get_json()["result"] == (
        "void"
    )
