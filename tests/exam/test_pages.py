"""Exam pages without JavaScript: booking, checking in, answering by form posts, proctor
console, staff pages; and the page's JSON endpoints guarded by session and CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from exam.models import Attempt, Response, Sitting
from tests.conftest import csrf_from, post_form, sign_in
from tests.exam.fixtures import ExamWorld


def _browser(app: Flask, world: ExamWorld, who: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.people[who]["user"].email)
    return client


def test_candidate_books_checks_in_and_answers_without_javascript(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    ana = _browser(app, world, "ana")
    page = ana.get("/sittings").get_data(as_text=True)
    assert "First Level, November" in page
    assert post_form(ana, "/sittings", f"/sittings/{sitting}/register", {}).status_code == 303
    exams = ana.get("/exams").get_data(as_text=True)
    registration = re.search(r"/exams/(\d+)/checkin", exams).group(1)
    assert post_form(ana, "/exams", f"/exams/{registration}/checkin", {}).status_code == 303
    assert "the proctor will admit you" in ana.get("/exams").get_data(as_text=True)
    world.call(
        "POST",
        f"/sittings/{sitting}/admissions",
        "proctor",
        {"candidate_id": world.id("ana"), "identity_check": "Passport"},
        200,
    )
    started = post_form(ana, "/exams", f"/exams/{registration}/start", {})
    assert started.status_code == 303 and started.headers["Location"].endswith("/q/1")
    question = ana.get(started.headers["Location"]).get_data(as_text=True)
    assert "Question 1 of 60" in question and "keys" not in question
    option = re.search(r'name="answer" id="q1-A"\s+value="([a-z0-9]+)"', question).group(1)
    token = csrf_from(question)
    attempt_id = int(re.search(r"/exams/attempts/(\d+)/", started.headers["Location"]).group(1))
    moved = ana.post(
        f"/exams/attempts/{attempt_id}/q/1",
        data={"csrf_token": token, "answer": option, "go": "next"},
    )
    assert moved.status_code == 303 and moved.headers["Location"].endswith("/q/2")
    flagged = ana.post(
        f"/exams/attempts/{attempt_id}/q/2",
        data={"csrf_token": token, "flagged": "0", "flagged_toggle": "1"},
    )
    assert flagged.headers["Location"].endswith("/q/2")
    review = ana.get(f"/exams/attempts/{attempt_id}/review").get_data(as_text=True)
    assert re.search(r"<span data-answered>1</span> of 60</strong> answered", review)
    assert re.search(r'data-count="flagged">1</strong> flagged for review', review)
    # Submitting asks first, naming the counts; only the confirmed post hands it in.
    asked = ana.post(f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert asked.status_code == 303 and asked.headers["Location"].endswith("/review?confirm=1")
    confirm = ana.get(asked.headers["Location"]).get_data(as_text=True)
    assert "You have answered 1 of 60 questions: 59 not answered, 1 flagged for review." in confirm
    done = ana.post(
        f"/exams/attempts/{attempt_id}/submit", data={"csrf_token": token, "confirmed": "yes"}
    )
    receipt = ana.get(done.headers["Location"]).get_data(as_text=True)
    assert "Your exam is submitted" in receipt and re.search(r"[0-9a-f]{64}", receipt)
    with get_db(app).read_sessions() as session:
        rows = session.scalars(select(Response).where(Response.attempt_id == attempt_id)).all()
    assert [(r.position, bool(r.selected), r.flagged) for r in rows] == [
        (1, True, False),
        (2, False, True),
    ]


def test_the_page_json_needs_the_session_and_csrf(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    option = attempt["questions"][0]["options"][0]["id"]
    ana = _browser(app, world, "ana")
    token = csrf_from(ana.get(f"/exams/attempts/{attempt['id']}/q/1").get_data(as_text=True))
    url = f"/exams/attempts/{attempt['id']}/responses/1"
    assert ana.put(url, json={"selected": [option]}).status_code == 400  # no CSRF header
    ok = ana.put(url, json={"selected": [option]}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.get_json()["position"] == 1
    stranger = _browser(app, world, "ben")
    other_token = csrf_from(stranger.get("/exams").get_data(as_text=True))
    refused = stranger.put(url, json={"selected": [option]}, headers={"X-CSRFToken": other_token})
    assert refused.status_code == 422 or refused.status_code == 404
    assert app.test_client().put(url, json={"selected": []}).status_code in (400, 401)


def test_a_signed_out_session_cannot_save(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    ana = _browser(app, world, "ana")
    token = csrf_from(ana.get(f"/exams/attempts/{attempt['id']}/q/1").get_data(as_text=True))
    phone = _browser(app, world, "ana")
    post_form(phone, "/account", "/account/sign-out-everywhere", {})
    response = ana.put(
        f"/exams/attempts/{attempt['id']}/responses/1",
        json={"selected": []},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 401


def test_proctor_console_admits_and_acts_and_is_for_the_sittings_proctors(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    world.call("POST", f"/sittings/{sitting}/checkin", "ana", expect=200)
    proctor = _browser(app, world, "proctor")
    console = proctor.get(f"/proctor/sittings/{sitting}").get_data(as_text=True)
    assert "Waiting to be admitted (1)" in console
    registration = re.search(r"/proctor/registrations/(\d+)/decision", console).group(1)
    empty = post_form(
        proctor,
        f"/proctor/sittings/{sitting}",
        f"/proctor/registrations/{registration}/decision",
        {"decision": "admit"},
    )
    assert "Record how identity was checked" in proctor.get(empty.headers["Location"]).get_data(
        as_text=True
    )
    post_form(
        proctor,
        f"/proctor/sittings/{sitting}",
        f"/proctor/registrations/{registration}/decision",
        {"decision": "admit", "identity_check": "Passport ending 4821"},
    )
    attempt = world.start("ana", sitting)
    extension = {"action": "extend", "minutes": "10", "reason": "Network outage"}
    console, action = f"/proctor/sittings/{sitting}", f"/proctor/attempts/{attempt['id']}/action"
    asked = post_form(proctor, console, action, extension).get_data(as_text=True)
    assert "Give Ana" in asked and "10 more minutes?" in asked
    assert "Time added cannot be taken back" in asked and 'name="confirmed" value="yes"' in asked
    waiting = proctor.get(f"/proctor/sittings/{sitting}/roster.json").get_json()["rows"]
    assert waiting[0]["seconds_left"] == 90 * 60  # nothing changed until confirmed
    post_form(proctor, console, action, {**extension, "confirmed": "yes"})
    roster = proctor.get(f"/proctor/sittings/{sitting}/roster.json").get_json()["rows"]
    assert roster[0]["status"] == "in_progress" and roster[0]["seconds_left"] == 100 * 60
    assert "Network outage" in proctor.get(f"/proctor/sittings/{sitting}").get_data(as_text=True)
    other = _browser(app, world, "other_proctor")
    assert other.get(f"/proctor/sittings/{sitting}").status_code == 403
    assert _browser(app, world, "ana").get(f"/proctor/sittings/{sitting}").status_code == 403
    with get_db(app).read_sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("attempt.%"))
        ).all()
    assert "attempt.extend" in actions


def test_staff_schedule_edit_and_cancel_sittings(app: Flask, world: ExamWorld) -> None:
    admin = _browser(app, world, "admin")
    opens = world.clock.now() + timedelta(days=3)
    form = {
        "title": "December sitting",
        "blueprint": "first-level",
        "opens_at": opens.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (opens + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "25",
        "mode": "test_centre",
        "location": "",
        "proctors": [str(world.id("proctor"))],
    }
    missing = post_form(admin, "/staff/sittings/new", "/staff/sittings/new", form)
    assert missing.status_code == 422 and "needs a location" in missing.get_data(as_text=True)
    assert (
        post_form(
            admin,
            "/staff/sittings/new",
            "/staff/sittings/new",
            {**form, "location": "Lisbon centre"},
        ).status_code
        == 303
    )
    with get_db(app).read_sessions() as session:
        sitting = session.scalars(select(Sitting)).one()
    edit_url = f"/staff/sittings/{sitting.id}/edit"
    page = admin.get(edit_url).get_data(as_text=True)
    assert "Lisbon centre" in page
    saved = post_form(
        admin, edit_url, edit_url, {**form, "location": "Porto centre", "revision": "1"}
    )
    assert saved.status_code == 303
    stale = post_form(admin, edit_url, edit_url, {**form, "location": "Faro", "revision": "1"})
    assert stale.status_code == 409
    post_form(
        admin, edit_url, f"/staff/sittings/{sitting.id}/cancel", {"reason": "Venue unavailable"}
    )
    with get_db(app).read_sessions() as session:
        sitting = session.get(Sitting, sitting.id)
        assert sitting.location == "Porto centre" and sitting.cancelled
    assert _browser(app, world, "proctor").get("/staff/sittings").status_code == 403


def test_extra_time_is_requested_and_decided_on_pages(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule(opens_in_minutes=60 * 24)
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    ana = _browser(app, world, "ana")
    registration = re.search(
        r"/exams/(\d+)/accommodation", ana.get("/exams").get_data(as_text=True)
    ).group(1)
    url = f"/exams/{registration}/accommodation"
    assert (
        post_form(
            ana, url, url, {"time_factor": "1.5", "reason": "Dyslexia, assessed 2025"}
        ).status_code
        == 303
    )
    admin = _browser(app, world, "admin")
    page = admin.get("/staff/accommodations").get_data(as_text=True)
    accommodation = re.search(r'name="accommodation_id" value="(\d+)"', page).group(1)
    denied = post_form(
        admin,
        "/staff/accommodations",
        "/staff/accommodations",
        {"accommodation_id": accommodation, "decision": "deny", "note": ""},
    )
    assert "Say why" in admin.get(denied.headers["Location"]).get_data(as_text=True)
    post_form(
        admin,
        "/staff/accommodations",
        "/staff/accommodations",
        {"accommodation_id": accommodation, "decision": "approve"},
    )
    mine = ana.get("/exams").get_data(as_text=True)
    assert "approved" in mine
    assert "135 minutes, with your extra time (50 % more)" in mine
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(Attempt.id)) is None


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_my_exams_states_the_exam_and_when_check_in_opens_truly_at_each_moment(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule(opens_in_minutes=120, hours=2)
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    ana = _browser(app, world, "ana")
    early = _plain(ana.get("/exams").get_data(as_text=True))
    assert "Length 90 minutes" in early and "Questions 60, over 4 areas" in early
    assert "To pass 70 % overall, and at least 50 % in each area" in early
    assert "When the time runs out, the answers saved by then are handed in for you." in early
    assert "Check-in opens at" in early and "30 minutes early" in early
    assert "/checkin" not in ana.get("/exams").get_data(as_text=True)  # no button yet

    world.clock.advance(minutes=100)  # 20 minutes before the start
    during = ana.get("/exams").get_data(as_text=True)
    assert "Check-in is open now, until" in _plain(during) and "/checkin" in during

    world.clock.advance(minutes=150)  # past the window's end
    late = ana.get("/exams").get_data(as_text=True)
    assert "The window closed at" in _plain(late) and "/checkin" not in late
    assert "Check-in opens" not in late


def test_the_waiting_state_is_read_by_the_candidate_alone(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    world.call("POST", f"/sittings/{sitting}/checkin", "ana", expect=200)
    ana = _browser(app, world, "ana")
    page = ana.get("/exams").get_data(as_text=True)
    assert "http-equiv" not in page  # the page follows the state; it never reloads itself
    url = re.search(r'data-waiting="([^"]+)"', page).group(1)
    assert ana.get(url).get_json()["status"] == "checked_in"
    ben = _browser(app, world, "ben")
    assert ben.get(url).status_code == 404
    assert app.test_client().get(url).status_code in (302, 401)


def test_a_copied_cookie_cannot_save_after_sign_out(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    ana = _browser(app, world, "ana")
    token = csrf_from(ana.get(f"/exams/attempts/{attempt['id']}/q/1").get_data(as_text=True))
    copied = ana.get_cookie("csm_session").value
    ana.post("/sign-out", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("csm_session", copied)
    response = thief.put(
        f"/exams/attempts/{attempt['id']}/responses/1",
        json={"selected": []},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 401


def test_a_sitting_across_midnight_shows_the_date_at_both_ends(
    app: Flask, world: ExamWorld
) -> None:
    world.clock.current = world.clock.current.replace(hour=17, minute=54)
    world.refresh_tokens()
    world.schedule(hours=8, opens_in_minutes=10)
    ana = _browser(app, world, "ana")
    listed = ana.get("/sittings").get_data(as_text=True)
    assert "Sun 22 Nov 2026, 18:04 to Mon 23 Nov 2026, 02:04 UTC" in listed
    proctor = _browser(app, world, "proctor").get("/proctor").get_data(as_text=True)
    assert "Sun 22 Nov 2026, 18:04 to Mon 23 Nov 2026, 02:04 UTC" in proctor


def test_an_extension_without_minutes_is_a_422_on_both_faces(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    api = world.call("POST", f"/attempts/{attempt['id']}/extend", "proctor", {"reason": "Outage"})
    assert api.status_code == 422 and api.get_json()["errors"][0]["field"] == "minutes"
    proctor = _browser(app, world, "proctor")
    console, action = f"/proctor/sittings/{sitting}", f"/proctor/attempts/{attempt['id']}/action"
    for minutes in ("", "abc", "500"):
        page = post_form(
            proctor, console, action, {"action": "extend", "minutes": minutes, "reason": "Outage"}
        )
        assert page.status_code == 422 and "Minutes" in page.get_data(as_text=True), minutes
    state = world.call("GET", f"/attempts/{attempt['id']}/state", "ana", expect=200).get_json()
    assert state["seconds_left"] == 90 * 60


def test_reading_an_attempt_past_its_deadline_writes_nothing(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    world.clock.advance(minutes=91)
    world.refresh_tokens()
    ana = _browser(app, world, "ana")
    state = world.call("GET", f"/attempts/{attempt['id']}/state", "ana", expect=200).get_json()
    assert state["status"] == "expired" and state["seconds_left"] == 0
    receipt = ana.get(f"/exams/attempts/{attempt['id']}/receipt").get_data(as_text=True)
    assert "The time ran out" in receipt and re.search(r"[0-9a-f]{64}", receipt)
    assert "Finished (expired)" in ana.get("/exams").get_data(as_text=True)
    with get_db(app).read_sessions() as session:
        assert session.get(Attempt, attempt["id"]).status == "in_progress"
    result = app.test_cli_runner().invoke(args=["attempts", "expire"])
    assert "1 attempt finished as expired" in result.output
    sealed = ana.get(f"/exams/attempts/{attempt['id']}/receipt").get_data(as_text=True)
    assert re.search(r"[0-9a-f]{64}", sealed).group(0) == re.search(r"[0-9a-f]{64}", receipt).group(
        0
    )


def test_a_void_attempt_says_why_and_shows_no_score(app: Flask, world: ExamWorld) -> None:
    from tests.exam.fixtures import sit

    attempt = sit(world)
    world.call(
        "POST", f"/attempts/{attempt['id']}/terminate", "proctor", {"reason": "Phone in use"}, 200
    )
    page = _plain(_browser(app, world, "ana").get(f"/exams/attempts/{attempt['id']}/result")
                  .get_data(as_text=True))  # fmt: skip
    assert "This attempt is void" in page
    assert "The proctor ended the exam: Phone in use" in page
    assert "By competency area" not in page and "0.0 %" not in page


def test_a_pass_links_its_certificate(app: Flask, world: ExamWorld) -> None:
    from tests.certificates.fixtures import all_certificates, passed_attempt

    attempt = passed_attempt(app, world)
    page = _browser(app, world, "ana").get(f"/exams/attempts/{attempt['id']}/result")
    html = page.get_data(as_text=True)
    [certificate] = all_certificates(app)
    assert "You passed" in html and "See your certificate" in html
    assert re.search(rf'href="[^"]*/certificates/{re.escape(certificate.code)}"', html)


def test_terminating_asks_first_with_the_consequence_and_changes_nothing_until_confirmed(
    app: Flask, world: ExamWorld
) -> None:
    from tests.exam.fixtures import sit

    attempt = sit(world)
    proctor = _browser(app, world, "proctor")
    console = f"/proctor/sittings/{_sitting_of(app, attempt['id'])}"
    action = f"/proctor/attempts/{attempt['id']}/action"
    no_reason = post_form(proctor, console, action, {"action": "terminate", "reason": ""})
    assert no_reason.status_code == 422 and "Give a reason" in no_reason.get_data(as_text=True)
    asked = post_form(proctor, console, action, {"action": "terminate", "reason": "Phone in use"})
    page = _plain(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "End Ana Whitaker's exam?" in page
    assert "recorded as void" in page and "Phone in use" in page
    state = f"/attempts/{attempt['id']}/state"
    assert world.call("GET", state, "ana").get_json()["status"] == "in_progress"
    token = csrf_from(asked.get_data(as_text=True))
    done = proctor.post(
        action,
        data={
            "csrf_token": token,
            "confirmed": "yes",
            "action": "terminate",
            "reason": "Phone in use",
        },
    )
    assert done.status_code == 303
    assert world.call("GET", state, "ana").get_json()["status"] == "terminated"


def test_turning_away_asks_first_and_a_no_show_is_marked_only_on_confirmation(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    proctor = _browser(app, world, "proctor")
    console = f"/proctor/sittings/{sitting}"
    registration = re.search(
        r"/proctor/registrations/(\d+)/decision", proctor.get(console).get_data(as_text=True)
    ).group(1)
    decision = f"/proctor/registrations/{registration}/decision"
    asked = post_form(proctor, console, decision, {"decision": "turn_away:no_show"})
    assert asked.status_code == 200
    assert "Turn Ana Whitaker away?" in _plain(asked.get_data(as_text=True))
    mine = _browser(app, world, "ana")
    assert "Registered." in _plain(mine.get("/exams").get_data(as_text=True))
    token = csrf_from(asked.get_data(as_text=True))
    proctor.post(
        decision, data={"csrf_token": token, "confirmed": "yes", "decision": "turn_away:no_show"}
    )
    assert "could not admit you (no show)" in mine.get("/exams").get_data(as_text=True)


def _sitting_of(app: Flask, attempt_id: int) -> int:
    with get_db(app).read_sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        return attempt.sitting_id
