"""A scenario in Chromium: a candidate at 390 px reads the passage and answers one of its
questions with the keyboard alone; the page at 1280 px; the staff scenario pages."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.db import get_db
from exam.models import Attempt, Response
from item_bank.models import Stimulus
from tests.browser.conftest import ContextFactory, PageProblems, screenshot, sign_in_page
from tests.conftest import MovableClock
from tests.exam.fixtures import form_slots, schedule_and_admit
from tests.exam.test_stimulus_sets import _scenario_first

PHONE = {"width": 390, "height": 844}


def _tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focus is on ``selector``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"!!document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_candidate_answers_a_scenario_question_by_keyboard_on_a_phone(
    clock: MovableClock,
    open_context: ContextFactory,
    app: Flask,
    make_user,
    sample_bank,
    page_problems: PageProblems,
) -> None:
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Noor")
    scenario = _scenario_first(app)  # before admission, which draws the form
    schedule_and_admit(
        app,
        admin=admin,
        proctor=proctor,
        candidates=[candidate],
        title="Scenario sitting",
        opens_at=clock.now() - timedelta(minutes=5),
        closes_at=clock.now() + timedelta(hours=4),
    )
    page = open_context(viewport=PHONE).new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", page_problems.on_error)
    sign_in_page(page, candidate.email)
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    expect(page.get_by_text("Question 1 of 60")).to_be_visible()
    with get_db(app).read_sessions() as session:
        attempt_id = session.scalars(select(Attempt.id)).one()
    slots = form_slots(app, attempt_id)
    position = next(s.position for s in slots if s.item_id == scenario[1])

    page.goto(f"/exams/attempts/{attempt_id}/q/{position}")
    passage = page.get_by_role("region", name="Northgate Dental Group: six months before renewal")
    expect(passage).to_be_visible()
    expect(passage).to_contain_text("Seats paid for: 120 throughout.")
    box, question = (
        passage.bounding_box(),
        page.locator(f'[data-question-form][data-position="{position}"]').bounding_box(),
    )
    assert box and question and box["y"] < question["y"], "the passage stands above on a phone"
    assert box["width"] <= PHONE["width"]
    _no_sideways_scroll(page)
    screenshot(page, "exam-scenario-390")

    _tab_to(page, "[data-stimulus]")  # the passage is reached, and can be scrolled by keys
    _tab_to(page, "input[name=answer]")
    page.keyboard.press("Space")
    expect(page.locator("[data-save-state]")).to_have_text("All answers saved.")
    with get_db(app).read_sessions() as session:
        saved = session.scalars(select(Response).where(Response.position == position)).one()
    assert saved.selected == ["A"] or len(saved.selected) == 1

    # 200 % zoom of a 1280 px screen is a 640 px window: the passage still stands above.
    page.set_viewport_size({"width": 640, "height": 450})
    _no_sideways_scroll(page)
    screenshot(page, "exam-scenario-640")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.evaluate("window.scrollTo(0, 0)")
    box, question = (
        passage.bounding_box(),
        page.locator(f'[data-question-form][data-position="{position}"]').bounding_box(),
    )
    assert box and question and box["x"] < question["x"], "beside the question on wide screens"
    assert abs(box["y"] - question["y"]) < 2
    screenshot(page, "exam-scenario-1280")
    assert page_problems.messages == []


def test_staff_scenario_pages(
    open_context: ContextFactory, app: Flask, make_user, sample_bank
) -> None:
    _scenario_first(app)
    writer = make_user("item_writer", given_name="Wanda")
    page = open_context().new_page()
    sign_in_page(page, writer.email)
    page.goto("/item-bank/items")
    page.get_by_role("link", name="Scenarios").click()
    expect(page.get_by_role("heading", name="Scenarios")).to_be_visible()
    screenshot(page, "staff-scenarios")
    page.get_by_role("link", name="SC-NORTHGATE-RENEWAL").click()
    expect(page.get_by_role("heading", name="Items in this scenario's set")).to_be_visible()
    expect(page.locator(".set-list li")).to_have_count(3)
    screenshot(page, "staff-scenario")
    page.locator(".page-head").get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Northgate Dental Group: five months before renewal")
    screenshot(page, "staff-scenario-editor")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("SC-NORTHGATE-RENEWAL is at version 2.")).to_be_visible()
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(Stimulus)).one().current.number == 2
    page.get_by_role("link", name="SC.RENEWAL.02-1").click()
    expect(page.get_by_role("region", name="Northgate Dental Group: six months")).to_be_visible()
    screenshot(page, "staff-scenario-item")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/item-bank/stimuli")
    screenshot(page, "staff-scenarios-390")
