"""The exam screen is calm: no site menu (the exam's name, and a menu with help and
sign-out), the focus on each question as it loads so the first Tab reaches its first
option, no sideways scrolling at 390 px or at 200 % zoom, and the time read out only at
its thresholds and when asked."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import ContextFactory, PageProblems, screenshot, sign_in_page
from tests.conftest import MovableClock
from tests.exam.fixtures import open_now

PHONE = {"width": 390, "height": 844}
ZOOM_200 = {"width": 640, "height": 450}  # a 1280 px screen at 200 %


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_exam_screen_is_calm_keyboard_first_and_fits_a_phone(
    open_context: ContextFactory,
    app: Flask,
    make_user,
    sample_bank,
    clock: MovableClock,
    page_problems: PageProblems,
) -> None:
    clock.freeze()
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Rui", family_name="Costa")
    open_now(app, clock, admin=admin, proctor=proctor, candidates=[candidate], title="Calm sitting")
    page = open_context().new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", page_problems.on_error)
    page.clock.install()
    sign_in_page(page, candidate.email)
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    expect(page.get_by_text("Question 1 of 60", exact=True)).to_be_visible()

    # Only the exam: no site navigation, no footer; help and sign-out sit in a menu.
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_role("contentinfo")).to_have_count(0)
    expect(page.get_by_text("Calm sitting")).to_be_visible()
    page.get_by_text("Menu", exact=True).click()
    expect(page.get_by_role("button", name="Sign out Rui Costa")).to_be_visible()
    page.get_by_role("link", name="Help during the exam").click()
    expect(page.get_by_role("heading", name="Help during the exam")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Sign out Rui Costa")).to_be_hidden()  # closed

    # The focus is on the question as it loads; the next Tab is its first option.
    page.get_by_role("link", name="Question 1, unanswered").click()
    expect(page.locator('[data-slide="1"]')).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#q1-A")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.")
    page.get_by_role("button", name="Save and next").click()
    expect(page.locator('[data-slide="2"]')).to_be_focused()
    assert page.title() == "Question 2 of 60 · CSM Certify"
    page.keyboard.press("Tab")
    expect(page.locator("#q2-A")).to_be_focused()

    # The time is read out when asked, in words; the countdown itself is not a live region.
    assert page.locator("[data-timer]").get_attribute("aria-live") is None
    page.get_by_role("button", name="Time left").click()
    said = page.locator("[data-timer-said]")
    expect(said).to_have_text("1 hour 30 minutes left.")
    page.clock.run_for(3_000)
    expect(said).to_have_text("1 hour 30 minutes left.")  # not every second
    expect(page.locator("[data-timer-warning]")).to_be_empty()

    for size, name in ((PHONE, "390"), (ZOOM_200, "zoom-200")):
        page.set_viewport_size(size)
        page.get_by_role("link", name="Question 2, unanswered").click()
        _no_sideways_scroll(page)
        screenshot(page, f"exam-question-{name}")
        page.get_by_role("link", name="Review all answers").click()
        _no_sideways_scroll(page)
        screenshot(page, f"exam-review-{name}")
        page.get_by_role("button", name="Submit my exam").click()
        expect(page.get_by_role("group", name="Submit your exam now?")).to_be_focused()
        _no_sideways_scroll(page)
        screenshot(page, f"exam-submit-confirm-{name}")
        page.get_by_role("link", name="Cancel").click()
        expect(page.get_by_role("button", name="Submit my exam")).to_be_focused()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Question 2, unanswered").click()
    screenshot(page, "exam-question-1280")
    page.get_by_role("link", name="Review all answers").click()
    screenshot(page, "exam-review-1280")
    page.get_by_role("button", name="Submit my exam").click()
    screenshot(page, "exam-submit-confirm-1280")
    assert page_problems.messages == []


def test_the_review_filters_jumps_and_asks_before_submitting(
    open_context: ContextFactory,
    app: Flask,
    make_user,
    sample_bank,
    clock: MovableClock,
    page_problems: PageProblems,
) -> None:
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Sara")
    open_now(app, clock, admin=admin, proctor=proctor, candidates=[candidate], title="Review")
    page = open_context().new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", page_problems.on_error)
    sign_in_page(page, candidate.email)
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    for position in (1, 2):
        page.locator(f"label[for=q{position}-A]").click()
        page.get_by_role("button", name="Save and next").click()
    page.get_by_role("button", name="Flag for review").click()  # question 3, unanswered
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.")
    page.get_by_role("button", name="Review and submit").click()

    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    counts = page.locator(".review-counts")
    expect(counts).to_contain_text("2 answered")
    expect(counts).to_contain_text("58 not answered")
    expect(counts).to_contain_text("1 flagged for review")
    # One number per question, never "1. Question 1".
    first = page.locator('[data-review-item="1"]')
    expect(first).to_have_text("Question 1 Answered", use_inner_text=True)
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.review-list')).listStyleType")
        == "none"
    )
    page.get_by_role("link", name="Not answered", exact=True).click()
    expect(page.locator("[data-review-item]:visible")).to_have_count(58)
    page.get_by_role("link", name="Flagged", exact=True).click()
    expect(page.locator("[data-review-item]:visible")).to_have_text(
        ["Question 3 Not answered Flagged"]
    )
    page.get_by_role("link", name="Go to the first unanswered question (3)").click()
    expect(page.get_by_text("Question 3 of 60", exact=True)).to_be_visible()
    page.locator("label[for=q3-A]").click()
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.")
    page.get_by_role("link", name="Review all answers").click()
    expect(page.get_by_role("link", name="Go to the first unanswered question (4)")).to_be_visible()

    page.get_by_role("button", name="Submit my exam").click()
    expect(
        page.get_by_text(
            "You have answered 3 of 60 questions: 57 not answered, 1 flagged for review."
        )
    ).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Submit your exam now?")).to_be_hidden()
    page.get_by_role("button", name="Submit my exam").click()
    page.get_by_role("button", name="Yes, submit my exam").click()
    expect(page.get_by_role("heading", name="Your exam is submitted")).to_be_visible()
    assert page_problems.messages == []


def test_the_time_is_announced_at_10_5_and_1_minutes_each_once(
    open_context: ContextFactory, app: Flask, make_user, sample_bank, clock: MovableClock
) -> None:
    clock.freeze()
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Tove")
    open_now(app, clock, admin=admin, proctor=proctor, candidates=[candidate], title="Timed")
    page = open_context().new_page()
    page.set_default_timeout(15_000)
    page.clock.install()  # the page's clock moves with the server's, never the wall's
    sign_in_page(page, candidate.email)
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    expect(page.locator("[data-timer-text]")).to_have_text("1:30:00")
    alert = page.get_by_role("alert").filter(has_text="left.")
    warning = page.locator("[data-timer-warning]")

    def move(**delta: float) -> None:
        clock.advance(**delta)
        page.clock.fast_forward(int(timedelta(**delta).total_seconds() * 1000))

    move(minutes=80, seconds=10)  # 9 min 50 s left
    expect(alert).to_have_text("Less than 10 minutes left.")
    move(minutes=4, seconds=50)  # 5 min 0 s left
    expect(alert).to_have_text("Less than 5 minutes left.")
    # A reload does not say the last threshold again; the next one is still said.
    page.reload()
    expect(page.get_by_text("Question 1 of 60", exact=True)).to_be_visible()
    page.clock.run_for(2_000)
    expect(warning).to_be_empty()
    move(minutes=4, seconds=10)  # 50 s left
    expect(alert).to_have_text("Less than 1 minute left.")
    expect(page.locator("[data-timer-text]")).to_have_text(re.compile(r"^0:[45]\d$"))
