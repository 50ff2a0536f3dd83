"""The exam with the network cut: ten questions of moving, answering, flagging and reviewing
with no connection, a reload that still shows the exam, and every answer in the database
once the network returns; and answers that reach the server only after the deadline,
refused and named to the candidate."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from core.db import get_db
from exam.models import Attempt, Response
from tests.browser.conftest import (
    ContextFactory,
    PageProblems,
    screenshot,
    screenshot_widths,
    sign_in_page,
)
from tests.conftest import MovableClock
from tests.exam.fixtures import form_slots, open_now

FLAGGED = (3, 6, 9)


def _start(
    open_context: ContextFactory, app: Flask, make_user, clock: MovableClock, name: str
) -> tuple[BrowserContext, Page, str]:
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name=name)
    open_now(app, clock, admin=admin, proctor=proctor, candidates=[candidate], title="Offline")
    context = open_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, candidate.email


def _begin(page: Page, email: str) -> int:
    sign_in_page(page, email)
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    expect(page.get_by_text("Question 1 of 60")).to_be_visible()
    # The page and its files are kept for a reload without a network.
    expect(page.locator("html[data-offline-ready]")).to_have_count(1)
    return int(page.url.split("/attempts/")[1].split("/")[0])


def _choose(page: Page, position: int, letter: str) -> None:
    page.locator(f"label[for=q{position}-{letter}]").click()


def test_ten_questions_and_a_reload_offline_then_every_answer_is_saved(
    open_context: ContextFactory,
    app: Flask,
    make_user,
    sample_bank,
    clock: MovableClock,
    page_problems: PageProblems,
) -> None:
    context, page, email = _start(open_context, app, make_user, clock, "Odile")
    page.on("pageerror", page_problems.on_error)
    attempt_id = _begin(page, email)

    context.set_offline(True)
    for position in range(1, 11):
        expect(page.get_by_text(f"Question {position} of 60", exact=True)).to_be_visible()
        # Focus is on the question as it loads: the first Tab reaches its first option.
        expect(page.locator(f'[data-slide="{position}"]')).to_be_focused()
        _choose(page, position, "A")
        if position in FLAGGED:
            page.get_by_role("button", name="Flag for review").click()
            expect(page.get_by_text("Flagged for review.").locator("visible=true")).to_be_visible()
        expect(page.locator("[data-save-state]")).to_contain_text(
            f"{position} answer{'s' if position > 1 else ''} waiting to be sent"
        )
        if position < 10:
            page.get_by_role("button", name="Save and next").click()
    screenshot_widths(page, "exam-offline-waiting")

    # Back to question 4 by the grid, offline, and a later change of mind.
    page.get_by_role("link", name="Question 4, answered").click()
    expect(page.get_by_text("Question 4 of 60", exact=True)).to_be_visible()
    if page.locator("#q4-A").get_attribute("type") == "checkbox":
        _choose(page, 4, "A")  # a multiple-response item: untick A first
    _choose(page, 4, "B")
    expect(page.locator("#q4-B")).to_be_checked()

    # A reload without a network shows the exam again, with what was chosen on this device.
    page.get_by_role("link", name="Question 7, answered").click()
    page.reload()
    expect(page.get_by_text("Question 7 of 60", exact=True)).to_be_visible()
    expect(page.locator("#q7-A")).to_be_checked()
    expect(page.locator("[data-save-state]")).to_contain_text("10 answers waiting to be sent")
    # Still counting to the server's deadline, not started again from the page's copy.
    expect(page.locator("[data-timer-text]")).to_have_text(re.compile(r"^1:29:\d\d$"))
    page.get_by_role("link", name="Question 4, answered").click()
    expect(page.locator("#q4-B")).to_be_checked()

    # The review, offline: the counts, the filter, and no submit while answers wait.
    page.get_by_role("link", name="Review all answers").click()
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    expect(page.locator('[data-count="answered"]')).to_have_text("10")
    expect(page.locator('[data-count="flagged"]')).to_have_text("3")
    page.get_by_role("link", name="Flagged", exact=True).click()
    expect(page.locator("[data-review-item]:visible")).to_have_count(3)
    page.get_by_role("button", name="Submit my exam").click()
    expect(page.get_by_text("10 answers are still waiting to be sent")).to_be_visible()
    expect(page.get_by_role("button", name="Yes, submit my exam")).to_be_disabled()
    screenshot_widths(page, "exam-offline-review")

    context.set_offline(False)
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.", timeout=20_000)
    expect(page.get_by_role("button", name="Yes, submit my exam")).to_be_enabled()
    with get_db(app).read_sessions() as session:
        rows = session.scalars(
            select(Response).where(Response.attempt_id == attempt_id).order_by(Response.position)
        ).all()
        stored = [(r.position, r.selected, r.flagged) for r in rows]
    order = {slot.position: slot.order for slot in form_slots(app, attempt_id)}
    assert [p for p, _, _ in stored] == list(range(1, 11))
    assert [p for p, _, flagged in stored if flagged] == list(FLAGGED)
    for position, selected, _ in stored:
        expected = order[position][1] if position == 4 else order[position][0]
        assert selected == [expected], position  # the later change of mind on 4 stands
    assert page_problems.messages == []


def test_answers_that_reach_the_server_after_the_deadline_are_refused_and_named(
    open_context: ContextFactory,
    app: Flask,
    make_user,
    sample_bank,
    clock: MovableClock,
) -> None:
    context, page, email = _start(open_context, app, make_user, clock, "Pavel")
    clock.freeze()
    page.clock.install()  # the page's clock moves with the server's, never the wall's
    attempt_id = _begin(page, email)
    _choose(page, 1, "A")
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.")

    context.set_offline(True)
    page.get_by_role("button", name="Save and next").click()
    _choose(page, 2, "A")
    page.get_by_role("button", name="Save and next").click()
    _choose(page, 3, "A")
    expect(page.locator("[data-save-state]")).to_contain_text("2 answers waiting to be sent")

    clock.advance(minutes=91)
    page.clock.fast_forward(91 * 60 * 1000)
    expect(page.locator("[data-timer-text]")).to_have_text("0:00")
    expect(page.locator("[data-timer-warning]")).to_have_text(
        "Time is up. Answers can no longer change."
    )
    expect(page.locator("#q3-B")).to_be_disabled()
    # Time is up: a file of answers could no longer count, so none is offered.
    saving = page.get_by_role("button", name="Save my answers in a file")
    expect(saving).to_have_count(0)

    context.set_offline(False)
    page.clock.fast_forward(5_000)
    refused = page.locator("[data-refused]")
    expect(refused).to_contain_text(
        "Your answers to questions 2, 3 reached the server after the time was up and were "
        "not saved. Your other answers are saved.",
        timeout=20_000,
    )
    expect(refused.get_by_role("link", name="See your receipt")).to_be_visible()
    expect(saving).to_have_count(0)  # nor once the server has refused answers
    # The page shows what counts: the refused answers are unchosen again, not answered.
    expect(page.locator(".exam-progress [data-answered]")).to_have_text("1")
    expect(page.locator("#q3-A")).not_to_be_checked()
    expect(page.locator('[data-review-item="2"] [data-review-state]')).to_have_text("Not answered")
    screenshot_widths(page, "exam-offline-refused")
    with get_db(app).read_sessions() as session:
        saved = session.scalars(
            select(Response.position).where(Response.attempt_id == attempt_id)
        ).all()
        assert saved == [1]
        assert session.get(Attempt, attempt_id).status == "expired"  # type: ignore[union-attr]


def test_a_long_outage_the_answers_travel_in_a_sealed_file_to_the_proctor(
    open_context: ContextFactory,
    app: Flask,
    make_user,
    sample_bank,
    clock: MovableClock,
    tmp_path,
) -> None:
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Quinn", family_name="Ober")
    open_now(app, clock, admin=admin, proctor=proctor, candidates=[candidate], title="Outage")
    context = open_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    attempt_id = _begin(page, candidate.email)
    offer, in_help = page.locator("[data-offline-offer]"), page.locator("[data-offline-file]")
    # Online, the file is offered only quietly, in the help below the question.
    expect(offer).to_be_hidden()
    expect(in_help.get_by_role("button", name="Save my answers in a file")).to_be_visible()

    context.set_offline(True)
    expect(offer).to_be_visible()  # the network is down: offered at the top, once
    expect(in_help).to_be_hidden()
    for position in (1, 2, 3):
        _choose(page, position, "A")
        page.get_by_role("button", name="Save and next").click()
    screenshot_widths(page, "exam-offline-file-offer")
    with page.expect_download() as download:
        page.get_by_role("button", name="Save my answers in a file").click()
    expect(offer.locator("[data-offline-saved]")).to_have_text(
        f"3 answers saved in the file exam-{attempt_id}-answers.json. Give it to your proctor."
    )
    sealed = tmp_path / "answers.json"
    download.value.save_as(sealed)
    assert "csm-offline-answers/1" in sealed.read_text()
    with get_db(app).read_sessions() as session:
        assert (
            session.scalars(select(Response).where(Response.attempt_id == attempt_id)).all() == []
        )

    desk = open_context().new_page()
    sign_in_page(desk, proctor.email)
    desk.goto("/proctor")
    desk.get_by_role("link", name="Outage").click()
    desk.get_by_label("Offline answers file").set_input_files(sealed)
    desk.get_by_role("button", name="Upload the answers").click()
    expect(
        desk.get_by_role("status").filter(has_text="Offline answers of Quinn Ober")
    ).to_have_text("Offline answers of Quinn Ober: questions 1, 2 and 3 saved.")
    screenshot(desk, "proctor-console-offline-answers")
    context.set_offline(False)  # back online: the offer goes back to the help
    expect(offer).to_be_hidden(timeout=20_000)
    expect(in_help).to_be_visible()
    order = {slot.position: slot.order for slot in form_slots(app, attempt_id)}
    with get_db(app).read_sessions() as session:
        rows = session.scalars(select(Response).where(Response.attempt_id == attempt_id)).all()
        assert {r.position: r.selected for r in rows} == {p: [order[p][0]] for p in (1, 2, 3)}
