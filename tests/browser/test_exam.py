"""A whole exam in Chromium: register, check in, admitted by a proctor in a second browser
context, answer, lose the network while answering, come back, pause and resume, submit."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accounts.models import User
from core.db import get_db
from exam.models import Response
from tests.browser.conftest import (  # noqa: F401
    CHROMIUM_ARGS,
    ContextFactory,
    PageProblems,
    screenshot,
    screenshot_widths,
    sign_in_page,
)
from tests.conftest import STRONG_PASSWORD, MovableClock
from tests.exam.fixtures import handed_in, schedule_and_admit


def _schedule(app: Flask, admin: User, proctor: User, clock: MovableClock) -> None:
    schedule_and_admit(
        app,
        admin=admin,
        proctor=proctor,
        candidates=[],
        title="First Level, browser sitting",
        opens_at=clock.now() - timedelta(minutes=5),
        closes_at=clock.now() + timedelta(hours=4),
        capacity=30,
    )


def test_a_whole_exam(
    clock: MovableClock,
    open_context: ContextFactory,
    live_server: str,
    app: Flask,
    make_user,
    sample_bank,
    page_problems: PageProblems,
) -> None:
    admin, proctor = make_user("exam_admin"), make_user("proctor", given_name="Priya")
    candidate = make_user("candidate", given_name="Ana", family_name="Pereira")
    _schedule(app, admin, proctor, clock)
    cand_ctx, proc_ctx = open_context(), open_context()
    cand, proc = cand_ctx.new_page(), proc_ctx.new_page()
    for page in (cand, proc):
        page.set_default_timeout(15_000)
        page.on("pageerror", page_problems.on_error)

    sign_in_page(cand, candidate.email)
    cand.get_by_role("link", name="My exams").first.click()
    cand.get_by_role("link", name="Book an exam").click()
    cand.get_by_role("button", name="Register for First Level, browser sitting").click()
    expect(cand.get_by_role("status").first).to_contain_text("You are registered")
    cand.get_by_role("button", name="Check in").click()
    expect(cand.get_by_text("the proctor will admit you")).to_be_visible()
    screenshot(cand, "exam-waiting")

    sign_in_page(proc, proctor.email)
    proc.get_by_role("link", name="Proctoring").first.click()
    proc.get_by_role("link", name="First Level, browser sitting").click()
    proc.get_by_label("Identity checked with").fill("Passport ending 4821")
    screenshot(proc, "proctor-console-waiting")
    proc.get_by_role("button", name="Admit Ana Pereira").click()
    expect(proc.get_by_role("heading", name="Waiting to be admitted (0)")).to_be_visible()

    cand.reload()
    cand.get_by_role("button", name="Start the exam").click()
    expect(cand.get_by_text("Question 1 of 60")).to_be_visible()
    expect(cand.get_by_text("0 of 60", exact=True)).to_be_visible()
    cand.locator("label[for=q1-A]").click()
    expect(cand.locator("[data-save-state]")).to_have_text("All answers saved.")
    screenshot(cand, "exam-question")

    cand.get_by_role("button", name="Save and next").click()
    expect(cand.get_by_text("Question 2 of 60")).to_be_visible()
    cand_ctx.set_offline(True)
    cand.locator("label[for=q2-B]").click()
    expect(cand.locator("[data-save-state]")).to_contain_text("1 answer waiting to be sent")
    screenshot(cand, "exam-offline")
    cand_ctx.set_offline(False)
    expect(cand.locator("[data-save-state]")).to_have_text("All answers saved.", timeout=20_000)
    with get_db(app).read_sessions() as session:
        saved = session.scalars(select(Response.position).order_by(Response.position)).all()
    assert saved == [1, 2]

    proc.reload()
    proc.get_by_text("Act on Ana Pereira").click()
    proc.get_by_label("Why pause").fill("Fire alarm")
    proc.get_by_role("button", name="Pause").click()
    expect(cand.locator("[data-paused]")).to_be_visible(timeout=10_000)
    screenshot(cand, "exam-paused")
    proc.get_by_text("Act on Ana Pereira").click()
    proc.get_by_role("button", name="Resume").click()
    expect(cand.locator("[data-paused]")).to_be_hidden(timeout=10_000)
    screenshot(proc, "proctor-console-running")

    cand.get_by_role("button", name="Flag for review").click()
    expect(cand.get_by_text("Flagged for review.", exact=True)).to_be_visible()
    cand.get_by_role("button", name="Review and submit").click()
    expect(cand.get_by_role("heading", name="Review your answers")).to_be_visible()
    screenshot(cand, "exam-review")
    cand.get_by_role("button", name="Submit my exam").click()
    expect(
        cand.get_by_text("You have answered 2 of 60 questions: 58 not answered, 1 flagged")
    ).to_be_visible()
    cand.get_by_role("button", name="Yes, submit my exam").click()
    expect(cand.get_by_role("heading", name="Your exam is submitted")).to_be_visible()
    expect(cand.get_by_text("2 of 60")).to_be_visible()
    screenshot(cand, "exam-receipt")
    assert page_problems.messages == []


def test_time_warnings_and_a_hidden_timer(
    page: Page, app: Flask, make_user, sample_bank, clock
) -> None:
    clock.freeze()  # the countdown is read to the second
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Kai")
    schedule_and_admit(
        app,
        admin=admin,
        proctor=proctor,
        candidates=[candidate],
        title="Timed sitting",
        opens_at=clock.now(),
        closes_at=clock.now() + timedelta(hours=4),
    )
    page.goto("/sign-in")
    page.get_by_label("Email").fill(candidate.email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    expect(page.locator("[data-timer-text]")).to_have_text("1:30:00")
    # Options answer by keyboard alone: focus, Space, arrows move within the group.
    page.locator("#q1-A").focus()
    page.keyboard.press("Space")
    if page.locator("#q1-A").get_attribute("type") == "checkbox":
        page.keyboard.press("Space")  # untick A, then move on as a keyboard user would
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
    else:
        page.keyboard.press("ArrowDown")
    expect(page.locator("#q1-B")).to_be_checked()
    expect(page.locator("#q1-B")).to_be_focused()
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.")
    expect(page.locator('[data-grid="1"]')).to_have_attribute("aria-label", "Question 1, answered")
    page.keyboard.press("Enter")  # Enter on an option saves and moves on, never back
    expect(page.get_by_text("Question 2 of 60")).to_be_visible()
    page.goto(page.url.replace("/q/2", "/q/1"))
    page.get_by_role("button", name="Hide timer").click()
    expect(page.locator("[data-timer]")).to_be_hidden()
    clock.advance(minutes=81)
    expect(page.get_by_role("alert").filter(has_text="Less than 10 minutes left.")).to_be_visible(
        timeout=10_000
    )
    page.reload()
    expect(page.locator("[data-timer]")).to_be_hidden()  # the choice is remembered
    page.get_by_role("button", name="Show timer").click()
    expect(page.locator("[data-timer-text]")).to_have_text("9:00")
    screenshot(page, "exam-ten-minutes")


def test_staff_and_candidate_pages_look_right(
    page: Page, app: Flask, make_user, sample_bank, page_problems: PageProblems, clock
) -> None:
    admin = make_user("exam_admin", given_name="Elena")
    make_user("proctor", given_name="Priya", family_name="Natarajan")
    candidate = make_user("candidate", given_name="Lea")
    sign_in_page(page, admin.email)
    page.get_by_role("link", name="Sittings").first.click()
    page.get_by_role("link", name="Schedule a sitting").click()
    page.get_by_label("Title").fill("First Level, Lisbon")
    day = (clock.now() + timedelta(days=45)).date()
    page.get_by_label("Window opens (UTC)").fill(f"{day}T09:00")
    page.get_by_label("Window closes (UTC)").fill(f"{day}T12:00")
    page.get_by_label("Capacity").fill("24")
    page.get_by_label("Mode").select_option("test_centre")
    page.get_by_label("Location (test centre)").fill("Lisbon test centre, Avenida da Liberdade 10")
    page.get_by_label("Priya Natarajan").check()
    screenshot(page, "staff-sitting-form")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("cell", name="First Level, Lisbon", exact=True)).to_be_visible()
    screenshot(page, "staff-sittings")
    page.get_by_role("button", name="Sign out").click()
    sign_in_page(page, candidate.email)
    page.goto("/sittings")
    screenshot(page, "candidate-sittings")
    page.get_by_role("button", name="Register for First Level, Lisbon").click()
    page.get_by_role("link", name="Request extra time").click()
    page.get_by_label("Extra time", exact=True).select_option("1.5")
    page.get_by_label("Reason").fill("Dyslexia, assessed in 2025.")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Extra time (50 % more): requested")).to_be_visible()
    screenshot(page, "candidate-my-exams")
    assert page_problems.messages == []


def test_reading_a_failed_report_and_appealing(
    page: Page, app: Flask, make_user, sample_bank, page_problems: PageProblems, clock
) -> None:
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Noor")
    (attempt_id,) = handed_in(
        app, clock, admin=admin, proctor=proctor, candidates=[candidate], title="Report sitting"
    )
    sign_in_page(page, candidate.email)
    page.goto(f"/exams/attempts/{attempt_id}/result")
    expect(page.get_by_role("heading", name="You did not pass this time")).to_be_visible()
    expect(page.get_by_role("img", name="Your score in each area")).to_be_visible()
    expect(page.get_by_role("heading", name="What to study")).to_be_visible()
    expect(page.get_by_text("Examination for CSM Competency Standard: First Level")).to_be_visible()
    screenshot_widths(page, "result-failed")
    page.get_by_label("Your appeal").fill("The exam froze for ten minutes at question 30.")
    page.get_by_role("button", name="File an appeal").click()
    expect(page.get_by_text("The exam team is considering it")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    sign_in_page(page, admin.email)
    page.goto("/staff/appeals")
    expect(page.get_by_text("The exam froze for ten minutes")).to_be_visible()
    screenshot(page, "staff-appeals")
    page.get_by_label("Reason (the candidate sees it)").fill("The proctor log confirms the outage.")
    page.get_by_role("button", name="Uphold and void the attempt").click()
    expect(page.get_by_role("heading", name="What follows when you confirm")).to_be_visible()
    expect(page.get_by_text("The attempt is void: no result stands for it")).to_be_visible()
    screenshot_widths(page, "staff-appeal-confirm")
    page.get_by_role("button", name="Uphold and void the attempt").click()
    expect(page.get_by_role("status").first).to_contain_text("Decision recorded")
    page.get_by_role("button", name="Sign out").click()
    sign_in_page(page, candidate.email)
    page.goto(f"/exams/attempts/{attempt_id}/result")
    expect(page.get_by_text("Decision: upheld")).to_be_visible()
    expect(page.get_by_role("heading", name="This attempt is void")).to_be_visible()
    assert page_problems.messages == []


def test_staff_statistics_rescoring_and_standard_setting_pages(
    page: Page, app: Flask, make_user, sample_bank, page_problems: PageProblems, clock
) -> None:
    admin, proctor = make_user("exam_admin", given_name="Elena"), make_user("proctor")
    candidates = [make_user("candidate", given_name=f"C{n}") for n in range(3)]
    handed_in(
        app, clock, admin=admin, proctor=proctor, candidates=candidates, title="Stats sitting"
    )
    sign_in_page(page, admin.email)
    page.goto("/staff/statistics?sort=p_value")
    expect(page.get_by_text("KR-20 reliability")).to_be_visible()
    screenshot_widths(page, "staff-statistics")
    first_item = page.locator("table tbody tr td a").first
    ref = first_item.inner_text()
    version = page.locator("table tbody tr td.nowrap").first.inner_text().split()[1][1:]
    first_item.click()  # each item reference leads to the item
    expect(page.get_by_role("heading", level=1)).to_contain_text(ref)
    page.go_back()
    # ... and to its rescoring, the version filled in with the ref.
    page.get_by_role("link", name=f"Rescore {ref} v{version}").click()
    expect(page.get_by_label("Item ref")).to_have_value(ref)
    expect(page.get_by_label("Version")).to_have_value(version)
    screenshot_widths(page, "staff-scoring")
    page.get_by_label("Decision").select_option("do_not_score")
    page.get_by_label("Reason").fill("Two options are defensible.")
    page.get_by_role("button", name="Preview the rescoring").click()
    expect(page.get_by_role("heading", name="What follows when you confirm")).to_be_visible()
    expect(page.locator(".consequences")).to_contain_text("that used it")
    count = int(page.locator(".consequences li strong").first.inner_text())
    assert count >= 1
    attempts = f"{count} attempt{'s' if count != 1 else ''}"
    screenshot_widths(page, "staff-scoring-confirm")
    page.get_by_role("button", name=f"Rescore {attempts}").click()
    expect(page.get_by_role("status")).to_contain_text(f"{attempts} rescored; 0 outcomes changed")
    expect(page.get_by_role("status")).to_contain_text("No certificate is issued, revoked")
    screenshot_widths(page, "staff-scoring-done")
    page.goto("/staff/angoff")
    page.get_by_label("Title of a new study").fill("December panel")
    page.get_by_role("button", name="Draw a form and open the study").click()
    expect(page.get_by_role("heading", name="December panel")).to_be_visible()
    page.locator("input[type=number]").first.fill("65")
    screenshot(page, "staff-angoff")
    assert page_problems.messages == []


def test_a_proctor_booked_on_their_own_sitting_cannot_admit_themself(
    page: Page, app: Flask, make_user, sample_bank, clock: MovableClock
) -> None:
    admin = make_user("exam_admin")
    pat = make_user("candidate", "proctor", given_name="Pat", family_name="Both")
    _schedule(app, admin, pat, clock)
    sign_in_page(page, pat.email)
    page.goto("/sittings")
    page.get_by_role("button", name="Register for First Level, browser sitting").click()
    page.get_by_role("button", name="Check in").click()
    page.get_by_role("link", name="Proctoring").first.click()
    page.get_by_role("link", name="First Level, browser sitting").click()
    page.get_by_label("Identity checked with").fill("My own passport")
    page.get_by_role("button", name="Admit Pat Both").click()
    expect(page.get_by_role("heading", name="Not on your own matter")).to_be_visible()
    expect(page.get_by_text("You cannot admit yourself: you are the candidate.")).to_be_visible()
    screenshot(page, "refused-own-matter")
    page.goto("/exams")
    expect(page.get_by_text("the proctor will admit you")).to_be_visible()
