"""Recertification: a holder is told when and how each certificate in force is renewed, by
re-examination or by continuing-education credits (logged, reviewed by staff) that, once
enough are accepted, renew it into a new certificate continuing the chain."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accreditation.demo import plain_pdf
from certificates import renewal
from certificates.models import Certificate, RenewalCredit
from certificates.services import link_token_for
from core import clock as core_clock
from core.audit import events_for
from core.clock import add_months
from core.db import get_db
from tests.certificates.fixtures import holder_client, staff_client
from tests.certificates.test_standards import schema_errors
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld, grant_roles, pass_exam_on

PDF = plain_pdf("Certificate of attendance")


def senior_certificate(app: Flask, world: ExamWorld) -> str:
    """Ana holds the Contributor and then the Senior credential (renewed by 20 credits in
    Customer Relationships and Team Leadership over its 12 months): the Senior's code."""
    pass_exam_on(world, app, "cscm-contributor")
    return str(pass_exam_on(world, app, "cscm-senior")["code"])


def _certificate(app: Flask, code: str) -> Certificate:
    with get_db(app).read_sessions() as session:
        return session.scalars(select(Certificate).where(Certificate.code == code)).one()


def test_the_plan_says_how_each_certificate_is_renewed(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    senior = senior_certificate(app, world)
    first = pass_exam_on(world, app, "first-level")["code"]
    with app.app_context(), get_db(app).read_sessions() as session:
        by_credits = renewal.plan(session, session.merge(_certificate(app, senior)))
        by_exam = renewal.plan(session, session.merge(_certificate(app, first)))
    assert by_credits is not None and by_credits.by_credits
    assert (by_credits.required, by_credits.accepted, by_credits.missing) == (20, 0, 20)
    assert [(a.code, a.title) for a in by_credits.areas] == [
        ("REL", "Customer Relationships"),
        ("LEAD", "Team Leadership"),
    ]
    assert not by_credits.can_renew
    assert by_exam is not None and not by_exam.by_credits and by_exam.period_months == 24

    page = holder_client(app, world).get("/certificates").get_data(as_text=True)
    assert "Renew by continuing education: <strong>20 credits</strong>" in page
    assert "Customer Relationships, Team Leadership" in page
    assert "<strong>0 of 20</strong> credits accepted; 20 still needed." in page
    assert "Renew by re-examination: pass the exam again in a sitting" in page


def test_a_superseded_certificate_has_no_plan(app: Flask, world: ExamWorld, ladder: None) -> None:
    older = pass_exam_on(world, app, "first-level")["code"]
    pass_exam_on(world, app, "first-level")
    with app.app_context(), get_db(app).read_sessions() as session:
        assert renewal.plan(session, session.merge(_certificate(app, older))) is None


def log_activity(app: Flask, client: FlaskClient, code: str, **fields: Any) -> tuple[int, str]:
    """The holder fills in the certificate's "Log an activity" form and sends it: the
    status and the page answered."""
    with get_db(app).read_sessions() as session:
        certificate_id = session.scalars(
            select(Certificate.id).where(Certificate.code == code)
        ).one()
    prefix = f"credit-{certificate_id}-"
    values: dict[str, Any] = {
        "title": "Renewal conversations workshop",
        "provider": "Customer Success Association",
        "activity_on": core_clock.now().date().isoformat(),
        "credits": "8",
        "area": "REL",
        **fields,
    }
    data: dict[str, Any] = {prefix + name: value for name, value in values.items()}
    evidence = fields.get("file", PDF)
    if evidence is not None:
        data[prefix + "file"] = (io.BytesIO(evidence), "attendance.pdf")
    token = csrf_from(client.get("/certificates").get_data(as_text=True))
    response = client.post(
        f"/certificates/{code}/credits",
        data={"csrf_token": token, **data},
        content_type="multipart/form-data",
    )
    page = client.get(response.location) if response.status_code == 302 else response
    return response.status_code, page.get_data(as_text=True)


def _credits(app: Flask) -> list[RenewalCredit]:
    with get_db(app).read_sessions() as session:
        return list(session.scalars(select(RenewalCredit).order_by(RenewalCredit.id)))


def review(client: FlaskClient, credit_id: int, decision: str, reason: str = "") -> Any:
    token = csrf_from(client.get("/staff/certificates/credits").get_data(as_text=True))
    return client.post(
        f"/staff/certificates/credits/{credit_id}/{decision}",
        data={"csrf_token": token, f"review-{credit_id}-reason": reason},
    )


def test_a_holder_logs_an_activity_with_its_evidence(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = senior_certificate(app, world)
    ana = holder_client(app, world)
    status, page = log_activity(app, ana, code)
    assert status == 302
    assert "Activity logged. Staff review it against its evidence." in page
    assert "<strong>0 of 20</strong> credits accepted, 8 awaiting review; 20 still needed." in page
    [credit] = _credits(app)
    assert (credit.title, credit.credits, credit.area, credit.state) == (
        "Renewal conversations workshop",
        8,
        "REL",
        "pending",
    )
    assert credit.evidence_filename == "attendance.pdf" and credit.evidence_size == len(PDF)
    evidence = ana.get(f"/certificates/credits/{credit.id}/evidence")
    assert evidence.status_code == 200 and evidence.data == PDF
    assert evidence.headers["Cache-Control"] == "private, no-store"
    evidence.close()
    # Another candidate cannot fetch it; staff can.
    other = app.test_client()
    sign_in(other, world.people["ben"]["user"].email)
    assert other.get(f"/certificates/credits/{credit.id}/evidence").status_code == 404
    evidence = staff_client(app, world).get(f"/certificates/credits/{credit.id}/evidence")
    assert evidence.data == PDF
    evidence.close()
    with app.app_context(), get_db(app).read_sessions() as session:
        [event] = [
            e
            for e in events_for(session, "certificate", code)
            if e.action == "certificate.credit_logged"
        ]
        assert event.actor_id == world.id("ana") and event.after["credits"] == 8


def test_an_entry_that_breaks_a_rule_is_refused_on_its_field(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = senior_certificate(app, world)
    ana = holder_client(app, world)
    tomorrow = core_clock.now().date() + timedelta(days=1)
    cases = {
        "area": ({"area": "OPS"}, "Choose one of REL, LEAD."),
        "activity_on": (
            {"activity_on": tomorrow.isoformat()},
            "The activity cannot be in the future.",
        ),
        "credits": ({"credits": "0"}, "greater than or equal to 1"),
        "title": ({"title": ""}, "at least 1 character"),
        "file": ({"file": b"<html>not a pdf</html>"}, "is not a PDF document"),
    }
    for name, (fields, message) in cases.items():
        status, page = log_activity(app, ana, code, **fields)
        assert status in (415, 422), name
        assert message in page, name
        assert re.search(rf'aria-invalid="true"[^>]*id="credit-\d+-{name}"', page), name
    status, page = log_activity(app, ana, code, file=None)
    assert status == 422 and "Attach the evidence as a PDF" in page
    assert _credits(app) == []


def test_credits_are_logged_only_for_a_certificate_renewed_by_credits(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    first = pass_exam_on(world, app, "first-level")["code"]
    ana = holder_client(app, world)
    token = csrf_from(ana.get("/certificates").get_data(as_text=True))
    response = ana.post(f"/certificates/{first}/credits", data={"csrf_token": token})
    assert response.status_code == 409
    assert _credits(app) == []


def test_staff_accept_or_reject_each_entry_with_a_reason_audited(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = senior_certificate(app, world)
    ana = holder_client(app, world)
    log_activity(app, ana, code, credits="12")
    log_activity(app, ana, code, credits="6", area="LEAD", title="Leading a CS team")
    first, second = _credits(app)
    staff = staff_client(app, world)
    listing = staff.get("/staff/certificates").get_data(as_text=True)
    assert 'href="/staff/certificates/credits">Renewal credits to review (2)</a>' in listing
    queue = staff.get("/staff/certificates/credits").get_data(as_text=True)
    assert "Renewal conversations workshop" in queue and "Leading a CS team" in queue
    # A candidate has no queue and cannot decide.
    assert ana.get("/staff/certificates/credits").status_code == 403
    token = csrf_from(ana.get("/certificates").get_data(as_text=True))
    forged = ana.post(f"/staff/certificates/credits/{first.id}/accept", data={"csrf_token": token})
    assert forged.status_code == 403

    assert review(staff, first.id, "accept").status_code == 302
    refused = review(staff, second.id, "reject")
    assert refused.status_code == 422
    assert "Say why it is rejected: the holder reads it." in refused.get_data(as_text=True)
    assert review(staff, second.id, "reject", "The evidence names someone else.").status_code == 302
    assert review(staff, second.id, "accept").status_code == 409
    assert [c.state for c in _credits(app)] == ["accepted", "rejected"]

    page = ana.get("/certificates").get_data(as_text=True)
    assert "<strong>12 of 20</strong> credits accepted; 8 still needed." in page
    assert "The evidence names someone else." in page
    with app.app_context(), get_db(app).read_sessions() as session:
        actions = [
            (e.action, e.actor_id, e.after.get("reason"))
            for e in events_for(session, "certificate", code)
            if e.action.startswith("certificate.credit_")
        ]
    admin = world.id("admin")
    assert ("certificate.credit_accepted", admin, None) in actions
    assert ("certificate.credit_rejected", admin, "The evidence names someone else.") in actions


def test_staff_do_not_review_their_own_entries(app: Flask, world: ExamWorld, ladder: None) -> None:
    code = senior_certificate(app, world)
    ana = holder_client(app, world)
    log_activity(app, ana, code)
    grant_roles(app, world.people["ana"]["user"], "admin")
    [credit] = _credits(app)
    assert "This is your own entry" in ana.get("/staff/certificates/credits").get_data(as_text=True)
    response = review(ana, credit.id, "accept")
    assert response.status_code == 403
    assert "it is your own" in response.get_data(as_text=True)
    assert [c.state for c in _credits(app)] == ["pending"]


def credits_in(app: Flask, world: ExamWorld, code: str, *amounts: tuple[str, str]) -> None:
    """Ana logs an activity per (credits, area) and staff accept each."""
    ana, staff = holder_client(app, world), staff_client(app, world)
    for credits, area in amounts:
        log_activity(app, ana, code, credits=credits, area=area)
    for credit in _credits(app):
        if credit.state == "pending":
            assert review(staff, credit.id, "accept").status_code == 302


def renew_as(client: FlaskClient, code: str) -> Any:
    token = csrf_from(client.get("/certificates").get_data(as_text=True))
    return client.post(f"/certificates/{code}/renew", data={"csrf_token": token})


def test_renewal_waits_for_enough_accepted_credits(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = senior_certificate(app, world)
    credits_in(app, world, code, ("12", "REL"))
    ana = holder_client(app, world)
    log_activity(app, ana, code, credits="8", area="LEAD")  # logged, not yet accepted
    page = ana.get("/certificates").get_data(as_text=True)
    assert "Renew now" not in page
    refused = renew_as(ana, code)
    assert refused.status_code == 409
    assert "8 more accepted credits are needed to renew it." in refused.get_data(as_text=True)
    other = app.test_client()
    sign_in(other, world.people["ben"]["user"].email)
    assert renew_as(other, code).status_code == 404
    assert len([c for c in _all(app) if c.superseded_by_id is None]) == 2


def _all(app: Flask) -> list[Certificate]:
    with get_db(app).read_sessions() as session:
        return list(session.scalars(select(Certificate).order_by(Certificate.id)))


def test_enough_accepted_credits_renew_it_into_a_certificate_continuing_the_chain(
    app: Flask, world: ExamWorld, ladder: None
) -> None:
    code = senior_certificate(app, world)
    credits_in(app, world, code, ("12", "REL"), ("8", "LEAD"))
    ana = holder_client(app, world)
    page = ana.get("/certificates").get_data(as_text=True)
    assert "<strong>20 of 20</strong> credits accepted: enough to renew." in page
    old = _certificate(app, code)
    world.clock.advance(days=30)
    ana = holder_client(app, world)  # signed in afresh a month on
    renewed = renew_as(ana, code)
    assert renewed.status_code == 302
    old, new = _certificate(app, code), _all(app)[-1]
    assert old.superseded_by_id == new.id and new.superseded_by_id is None
    assert new.attempt_id is None and new.holder_id == old.holder_id
    assert (new.title, new.blueprint_code) == (old.title, "cscm-senior")
    assert new.issued_at == core_clock.now()
    assert new.expires_at == add_months(old.expires_at, 12)
    page = ana.get(renewed.location).get_data(as_text=True)
    assert f"Renewed: certificate {new.code} continues it" in page
    # The new certificate's renewal period opens a year before its expiry, not before.
    opens = core_clock.format_day(add_months(new.expires_at, -12))
    assert f"Log activities from {opens}: those before do not count" in page
    assert page.count("Log an activity") == 0
    # The old one is no longer in force: it renews nothing more, and takes no credits.
    assert renew_as(ana, code).status_code == 409
    assert log_activity(app, ana, code)[0] == 409
    with app.app_context(), get_db(app).read_sessions() as session:
        renewed_event = [
            e for e in events_for(session, "certificate", code) if e.action == "certificate.renewed"
        ]
        issued_event = [
            e
            for e in events_for(session, "certificate", new.code)
            if e.action == "certificate.issued"
        ]
    assert [(e.actor_id, e.after) for e in renewed_event] == [
        (world.id("ana"), {"renewed_by": new.code, "credits": 20})
    ]
    assert [(e.actor_id, e.after) for e in issued_event] == [
        (world.id("ana"), {"renews": code, "credits": 20})
    ]

    # The renewed certificate's credential is as valid as any, and verifies.
    document = holder_client(app, world).get(f"/certificates/{new.code}/credential.json")
    assert document.status_code == 200
    assert schema_errors("achievementcredential", document.get_json()) == []
    token = ana.get(f"/certificates/{new.code}/credential.jwt").get_data(as_text=True)
    verdict = app.test_client().post("/api/v1/credentials/verify", json={"credential": token})
    assert verdict.get_json()["verified"] is True, verdict.get_json()

    # The verify pages: the new one shows its history, the old one its successor.
    with app.app_context():
        new_link, old_link = (
            f"/verify/{link_token_for(new.code)}",
            f"/verify/{link_token_for(code)}",
        )
    public = app.test_client()
    new_page = public.get(new_link).get_data(as_text=True)
    assert "Valid certificate" in new_page and '<h2 class="section-title">History</h2>' in new_page
    assert f'<a href="{old_link}"><span class="code">{code}</span></a>: issued' in new_page
    assert "superseded</span>" in new_page
    old_page = public.get(old_link).get_data(as_text=True)
    assert (
        f'<dt>Superseded</dt><dd>By a newer certificate of the same holder, <a href="{new_link}">'
        f'<span class="code">{new.code}</span></a>'
    ) in old_page


def test_staff_renew_on_the_holders_behalf(app: Flask, world: ExamWorld, ladder: None) -> None:
    code = senior_certificate(app, world)
    credits_in(app, world, code, ("20", "LEAD"))
    staff = staff_client(app, world)
    page = staff.get(f"/certificates/{code}").get_data(as_text=True)
    assert "Renew on the holder's behalf" in page
    token = csrf_from(page)
    renewed = staff.post(f"/certificates/{code}/renew", data={"csrf_token": token})
    assert renewed.status_code == 302
    new = _all(app)[-1]
    assert renewed.location == f"/certificates/{new.code}"
    assert _certificate(app, code).superseded_by_id == new.id
    with app.app_context(), get_db(app).read_sessions() as session:
        [event] = [
            e for e in events_for(session, "certificate", code) if e.action == "certificate.renewed"
        ]
    assert event.actor_id == world.id("admin")
