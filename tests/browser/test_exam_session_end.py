"""A sign-in that reaches its absolute lifetime mid-exam, in Chromium: the next answer is
refused, the page says to sign in again and keeps it; after signing in it is saved."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.db import get_db
from exam.models import Response
from tests.browser.conftest import screenshot
from tests.conftest import STRONG_PASSWORD
from tests.exam.fixtures import schedule_and_admit


def _sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_exam_page_asks_to_sign_in_again_and_keeps_the_answer(
    page: Page, app: Flask, make_user, sample_bank, clock
) -> None:
    app.config["SESSION_ABSOLUTE_HOURS"] = 1  # ends inside the exam's 90 minutes
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Kai")
    schedule_and_admit(
        app,
        admin=admin,
        proctor=proctor,
        candidates=[candidate],
        title="Long day sitting",
        opens_at=clock.now(),
        closes_at=clock.now() + timedelta(hours=4),
    )
    page.goto("/sign-in")
    _sign_in(page, candidate.email)
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    page.locator("#q1-A").check()
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.")

    ended = clock.advance(minutes=61)
    page.locator("#q1-B").check()
    state = page.locator("[data-save-state]")
    expect(state).to_contain_text("your session has ended. Sign in again")
    screenshot(page, "exam-session-ended")
    state.get_by_role("link", name="Sign in again").click()
    _sign_in(page, candidate.email)
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.")
    with get_db(app).read_sessions() as session:
        [saved] = session.scalars(select(Response).where(Response.position == 1))
        assert saved.saved_at >= ended  # the answer chosen after the session ended
