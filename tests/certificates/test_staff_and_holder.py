"""Staff decisions on a certificate (audited, effective at once everywhere), the holder's
page (QR, PDF, LinkedIn, share link), recertification reminders, and the public page's
preview tags."""

from __future__ import annotations

import email
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask import Flask

from certificates import issuing
from certificates.models import Certificate
from core.audit import events_for
from core.db import get_db
from tests.certificates.fixtures import (
    all_certificates,
    holder_client,
    passed_attempt,
    staff_client,
)
from tests.conftest import csrf_from, post_form
from tests.exam.fixtures import ExamWorld


def _link(app: Flask, world: ExamWorld, code: str) -> str:
    page = holder_client(app, world).get(f"/certificates/{code}").get_data(as_text=True)
    return "/verify/" + page.split('href="http://localhost/verify/')[1].split('"')[0]


def test_staff_revoke_and_reinstate_take_effect_at_once_and_are_audited(
    app: Flask, world: ExamWorld
) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    public, staff = app.test_client(), staff_client(app, world)
    link = _link(app, world, certificate.code)
    family = certificate.holder_family_name
    page = f"/certificates/{certificate.code}"

    refused = post_form(staff, page, f"{page}/revoke", {"revoke-reason": "misconduct"})
    assert refused.status_code == 422 and "Note for the record" in refused.get_data(as_text=True)
    assert "Valid certificate" in public.get(link).get_data(as_text=True)

    fields = {"revoke-reason": "misconduct", "revoke-note": "Impersonation at the sitting."}
    asked = post_form(staff, page, f"{page}/revoke", fields)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "What follows when you confirm" in text
    assert "<strong>revoked</strong>: misconduct" in text and "That mark is final" in text
    assert 'name="confirmed" value="yes"' in text and 'name="revoke-note"' in text
    assert "Valid certificate" in public.get(link).get_data(as_text=True)  # nothing yet
    done = post_form(staff, page, f"{page}/revoke", {**fields, "confirmed": "yes"})
    assert done.status_code == 302
    shown = public.get(link).get_data(as_text=True)
    assert "Revoked certificate" in shown and "Misconduct" in shown
    assert "Impersonation" not in shown  # the note is for staff only
    api = public.get(f"/api/v1/certificates/{certificate.code}?family_name={family}").get_json()
    assert api["status"] == "revoked" and api["revocation_reason"] == "Misconduct"
    assert api["checks"]["status"]["passed"] is False
    again = post_form(
        staff, page, f"{page}/revoke", {"revoke-reason": "misconduct", "revoke-note": "twice"}
    )
    assert again.status_code == 422

    # Reinstating asks first, with what follows, and changes nothing until confirmed.
    asked = post_form(staff, page, f"{page}/reinstate", {"decision-note": "Identity confirmed."})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Reinstate Ana" in text and "What follows" in text
    assert "no longer told it is revoked" in text and 'name="confirmed" value="yes"' in text
    assert "Revoked certificate" in public.get(link).get_data(as_text=True)
    post_form(
        staff,
        page,
        f"{page}/reinstate",
        {"decision-note": "Identity confirmed.", "confirmed": "yes"},
    )
    assert "Valid certificate" in public.get(link).get_data(as_text=True)
    asked = post_form(staff, page, f"{page}/suspend", {"decision-note": "Complaint."})
    assert "is told it is <strong>suspended</strong>" in asked.get_data(as_text=True)
    assert "Valid certificate" in public.get(link).get_data(as_text=True)
    with get_db(app).read_sessions() as session:
        trail = events_for(session, "certificate", certificate.code)
    actions = [(event.action, event.actor_id) for event in trail]
    admin_id = world.id("admin")
    assert ("certificate.revoked", admin_id) in actions
    assert ("certificate.reinstated", admin_id) in actions
    history = staff.get(page).get_data(as_text=True)
    assert "certificate.revoked" in history and "Impersonation" in history


def test_the_staff_page_answers_by_the_same_rules(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    staff, page = staff_client(app, world), f"/certificates/{certificate.code}"
    clash = post_form(
        staff, page, f"{page}/reinstate", {"decision-note": "Nothing to lift.", "confirmed": "yes"}
    )
    assert clash.status_code == 422
    assert "neither revoked nor suspended" in clash.get_data(as_text=True)
    blank = post_form(
        staff, page, f"{page}/revoke", {"revoke-reason": "misconduct", "revoke-note": " "}
    )
    html = blank.get_data(as_text=True)
    assert blank.status_code == 422 and "Say what happened and on whose decision." in html
    unknown = post_form(
        staff, page, f"{page}/revoke", {"revoke-reason": "boredom", "revoke-note": "Why not."}
    )
    assert unknown.status_code == 422 and "Input should be" in unknown.get_data(as_text=True)
    assert [c.revoked_at for c in all_certificates(app)] == [None]


def test_only_staff_decide_and_every_form_carries_csrf(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    page = f"/certificates/{certificate.code}"
    ana = holder_client(app, world)
    holder_page = ana.get(page).get_data(as_text=True)
    assert "Revoke certificate" not in holder_page
    token = csrf_from(holder_page)  # a genuine token (the sign-out form's)
    forbidden = ana.post(
        f"{page}/revoke",
        data={"csrf_token": token, "revoke-reason": "misconduct", "revoke-note": "mine"},
    )
    assert forbidden.status_code == 403
    staff = staff_client(app, world)
    no_token = staff.post(
        f"{page}/revoke", data={"revoke-reason": "misconduct", "revoke-note": "no token"}
    )
    assert no_token.status_code in (400, 422)
    with get_db(app).read_sessions() as session:
        assert session.get(Certificate, certificate.id).revoked_at is None
    by_name = staff.get("/staff/certificates?q=" + certificate.holder_given_name.lower())
    assert by_name.status_code == 200 and certificate.code in by_name.get_data(as_text=True)
    nobody = staff.get("/staff/certificates?q=Zebedee").get_data(as_text=True)
    assert certificate.code not in nobody and "No certificate matches" in nobody
    assert certificate.code in staff.get(
        "/staff/certificates?q=" + certificate.code.lower()
    ).get_data(as_text=True)
    assert ana.get("/staff/certificates").status_code == 403


def test_the_holder_page_offers_qr_pdf_linkedin_and_the_share_link(
    app: Flask, world: ExamWorld
) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    page = holder_client(app, world).get(f"/certificates/{certificate.code}")
    html = page.get_data(as_text=True)
    assert "<svg" in html and "QR code of the verification link" in html
    linkedin = html.split('href="https://www.linkedin.com/profile/add?')[1].split('"')[0]
    fields = parse_qs(linkedin.replace("&amp;", "&"))
    assert fields["certId"] == [certificate.code]
    assert fields["name"] == [certificate.title] == ["CSM Competency Standard: First Level"]
    assert fields["issueYear"] == [str(certificate.issued_at.year)]
    assert urlsplit(fields["certUrl"][0]).path.startswith("/verify/")
    pdf = holder_client(app, world).get(f"/certificates/{certificate.code}.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert b"/Image" in pdf.data  # the QR code


def test_the_public_page_previews_well_when_shared(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    link = _link(app, world, certificate.code)
    html = app.test_client().get(link).get_data(as_text=True)
    assert f'property="og:title" content="{certificate.holder_name}' in html
    assert 'property="og:url" content="http://localhost/verify/' in html
    assert "og:description" in html and "noindex" in html
    assert "Sign in" in html and "Sign out" not in html
    # The copy kept for anonymous visitors is never shown to someone signed in.
    signed_in = holder_client(app, world).get(link).get_data(as_text=True)
    assert "Sign out" in signed_in and 'name="csrf_token"' in signed_in


def test_reminders_go_out_at_90_and_30_days_once_each(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    outbox = Path(app.instance_path) / "outbox"
    runner = app.test_cli_runner()

    def remind() -> list[email.message.Message]:
        result = runner.invoke(args=["certificates", "remind"])
        assert result.exit_code == 0, result.output
        sent = runner.invoke(args=["mail", "send"])
        assert sent.exit_code == 0, sent.output
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]

    assert remind() == []
    world.clock.current = certificate.expires_at.replace(microsecond=0)
    world.clock.advance(days=-89)
    [first] = remind()
    assert first["To"] == world.people["ana"]["user"].email
    assert "expires in 89 days" in first["Subject"]
    assert len(remind()) == 1  # not twice
    world.clock.advance(hours=12)  # a later run the same week sends nothing more
    assert len(remind()) == 1
    world.clock.advance(days=60, hours=-12)
    messages = remind()
    assert len(messages) == 2 and any("expires in 29 days" in m["Subject"] for m in messages)
    assert len(remind()) == 2
    world.clock.advance(days=40)  # expired: nothing more
    assert len(remind()) == 2


def test_a_revoked_certificate_gets_no_reminder(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    staff = staff_client(app, world)
    page = f"/certificates/{certificate.code}"
    post_form(
        staff,
        page,
        f"{page}/revoke",
        {"revoke-reason": "misconduct", "revoke-note": "x", "confirmed": "yes"},
    )
    world.clock.current = certificate.expires_at
    world.clock.advance(days=-20)
    result = app.test_cli_runner().invoke(args=["certificates", "remind"])
    assert "0 reminder(s) at 90 days and 0 at 30 days" in result.output


def test_a_reminder_first_due_inside_30_days_is_the_30_day_one_only(
    app: Flask, world: ExamWorld
) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    world.clock.current = certificate.expires_at - timedelta(days=20)
    result = app.test_cli_runner().invoke(args=["certificates", "remind"])
    assert "0 reminder(s) at 90 days and 1 at 30 days" in result.output
    again = app.test_cli_runner().invoke(args=["certificates", "remind"])
    assert "0 reminder(s) at 90 days and 0 at 30 days" in again.output


def test_altered_links_are_not_genuine(app: Flask, world: ExamWorld) -> None:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    link = _link(app, world, certificate.code)
    client = app.test_client()
    assert client.get(link).status_code == 200
    for altered in (link + "==junk", link + "!!", link[:-1], link.replace(".", "..", 1)):
        answer = client.get(altered)
        assert answer.status_code in (400, 404), altered
        assert certificate.code not in answer.get_data(as_text=True)


def test_a_staff_revocation_stands_when_the_pass_returns(app: Flask, world: ExamWorld) -> None:
    """Grading restores only what grading revoked; a person's decision is not undone."""
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    staff = staff_client(app, world)
    page = f"/certificates/{certificate.code}"
    post_form(
        staff,
        page,
        f"{page}/revoke",
        {"revoke-reason": "rescoring", "revoke-note": "By hand.", "confirmed": "yes"},
    )
    with app.app_context(), get_db(app).write_sessions() as session:
        issuing.on_result_changed(session, certificate.attempt_id, "fail", "pass")
        session.commit()
    [after] = all_certificates(app)
    assert after.revoked_at is not None


def test_the_lookup_budget_counts_every_pair_of_a_batch(app: Flask, world: ExamWorld) -> None:
    client = app.test_client()
    pairs = [{"code": "CSM1-0000-0000-0000", "family_name": "X"}] * 100
    answers = [
        client.post("/api/v1/certificates/verify-batch", json={"certificates": pairs}).status_code
        for _ in range(4)
    ]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429
    single = client.get("/api/v1/certificates/CSM1-0000-0000-0000?family_name=X")
    assert single.status_code == 429  # the same budget, whichever door
