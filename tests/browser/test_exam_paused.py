"""An open question page hides its question while the proctor has paused the exam, keeps
an answer chosen at that moment on the device, and shows and saves it all on resume."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accounts.models import User
from core.db import get_db
from exam.models import Attempt, Response
from exam.services import proctoring
from tests.browser.conftest import PageProblems, screenshot_widths, sign_in_page
from tests.exam.fixtures import open_now


def _proctor_does(app: Flask, proctor: User, action: str) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        attempt_id = session.scalars(select(Attempt.id)).one()
        actor = session.get(User, proctor.id)
        assert actor is not None
        attempt = proctoring.require_attempt_for_proctor(session, actor, attempt_id)
        proctoring.act(session, actor, attempt, action, "Fire alarm", None)


def test_an_open_question_hides_while_paused_and_returns_on_resume(
    page: Page, app: Flask, make_user, sample_bank, page_problems: PageProblems, clock
) -> None:
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Ines")
    open_now(
        app, clock, admin=admin, proctor=proctor, candidates=[candidate], title="Paused sitting"
    )
    sign_in_page(page, candidate.email)
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    question = page.locator('[data-question-form][data-position="1"]')
    expect(question).to_be_visible()

    # The poll is held back so that the autosave is the first to learn of the pause.
    page.route("**/state", lambda route: route.abort())
    _proctor_does(app, proctor, "pause")
    page.locator("label[for=q1-B]").click()
    expect(question).to_be_hidden()
    expect(page.locator("[data-paused]")).to_be_visible()
    expect(page.locator("[data-paused]")).to_contain_text("Your time has stopped")
    expect(page.locator("[data-save-state]")).to_contain_text("kept on this device")
    screenshot_widths(page, "exam-paused-open-page")
    page.unroute("**/state")

    _proctor_does(app, proctor, "resume")
    expect(question).to_be_visible(timeout=15_000)
    expect(page.locator("#q1-B")).to_be_checked()
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.", timeout=15_000)
    with get_db(app).read_sessions() as session:
        saved = session.scalars(select(Response.selected)).all()
    assert len(saved) == 1 and len(saved[0]) == 1  # the answer chosen at the pause, resent

    _proctor_does(app, proctor, "pause")
    page.reload()
    expect(page.get_by_role("heading", name="Your exam is paused by the proctor")).to_be_visible()
    expect(question).to_have_count(0)  # nothing of the question was sent
    screenshot_widths(page, "exam-paused-page")
    _proctor_does(app, proctor, "resume")
    expect(question).to_be_visible(timeout=15_000)  # the page reloads itself on resume
    expected = ("/state", "409 for ")  # the held-back polls, the autosave refused while paused
    assert [m for m in page_problems.messages if not any(e in m for e in expected)] == []
