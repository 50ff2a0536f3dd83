"""Before the exam in Chromium: "My exams" states the exam and its rules, and the waiting
page learns that the proctor has admitted the candidate without reloading itself."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import (
    ContextFactory,
    PageProblems,
    screenshot,
    screenshot_widths,
    sign_in_page,
)
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture


def test_the_waiting_page_hears_of_the_admission_without_a_reload(
    app: Flask, world: ExamWorld, open_context: ContextFactory, page_problems: PageProblems
) -> None:
    sitting = world.schedule()
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    world.call("POST", f"/sittings/{sitting}/checkin", "ana", expect=200)
    page = open_context().new_page()
    page.on("pageerror", page_problems.on_error)
    page.on("console", page_problems.on_console)
    sign_in_page(page, world.people["ana"]["user"].email)
    page.goto("/exams")
    expect(page.get_by_text("the proctor will admit you")).to_be_visible()
    page.get_by_text("The rules of the exam").click()
    expect(page.get_by_text("When the time runs out")).to_be_visible()
    screenshot_widths(page, "exam-waiting")
    page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded

    world.call(
        "POST",
        f"/sittings/{sitting}/admissions",
        "proctor",
        {"candidate_id": world.id("ana"), "identity_check": "Passport ending 4821"},
        200,
    )
    start = page.get_by_role("button", name="Start the exam")
    expect(start).to_be_visible(timeout=15_000)
    expect(page.locator("[data-waiting-news]")).to_have_text(
        "The proctor has admitted you. You can start the exam now."
    )
    assert page.evaluate("window.loadedOnce === true")
    start.click()
    expect(page.get_by_text("Question 1 of 60")).to_be_visible()
    assert page_problems.messages == []


def test_my_exams_on_a_phone(app: Flask, world: ExamWorld, open_context: ContextFactory) -> None:
    sitting = world.schedule(opens_in_minutes=180)
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    phone = open_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in_page(phone, world.people["ana"]["user"].email)
    phone.goto("/exams")
    expect(phone.get_by_text("Check-in opens at")).to_be_visible()
    expect(phone.get_by_role("button", name="Check in")).to_have_count(0)
    phone.get_by_text("The rules of the exam").click()
    assert phone.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    screenshot(phone, "my-exams-390")
