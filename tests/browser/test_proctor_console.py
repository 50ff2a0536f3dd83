"""The proctor's console in Chromium: a check-in appears without a reload, what the proctor
was typing survives the update, and the console works at 390 px and at 200 % zoom."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import ContextFactory, PageProblems, screenshot, sign_in_page
from tests.conftest import MovableClock
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture


def _console(page: Page, world: ExamWorld, sitting: int) -> None:
    sign_in_page(page, world.people["proctor"]["user"].email)
    page.goto(f"/proctor/sittings/{sitting}")
    expect(page.get_by_role("heading", name="Roster")).to_be_visible()


def _ana_sitting(world: ExamWorld) -> int:
    """A sitting open now with Ana admitted and her exam started."""
    sitting = world.schedule()
    world.admitted("ana", sitting)
    world.start("ana", sitting)
    return sitting


def test_a_check_in_appears_live_and_keeps_what_the_proctor_typed(
    app: Flask, world: ExamWorld, open_context: ContextFactory, page_problems: PageProblems
) -> None:
    sitting = _ana_sitting(world)
    world.call("POST", f"/sittings/{sitting}/registrations", "ben", expect=201)
    page = open_context().new_page()
    page.on("pageerror", page_problems.on_error)
    page.on("console", page_problems.on_console)
    _console(page, world, sitting)
    expect(page.get_by_role("heading", name="Waiting to be admitted (0)")).to_be_visible()
    page.get_by_text("Act on Ana").click()
    note = page.get_by_label("Note for the log")
    note.fill("Asked to clear the desk")
    note.focus()
    page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded

    world.call("POST", f"/sittings/{sitting}/checkin", "ben", expect=200)
    expect(page.get_by_role("heading", name="Waiting to be admitted (1)")).to_be_visible(
        timeout=15_000
    )
    expect(page.locator("[data-live-news]")).to_have_text(f"Checked in: {_name(world, 'ben')}.")
    expect(page.get_by_role("button", name=f"Admit {_name(world, 'ben')}")).to_be_visible()
    assert page.evaluate("window.loadedOnce === true")
    expect(page.get_by_label("Note for the log")).to_have_value("Asked to clear the desk")
    expect(page.get_by_label("Note for the log")).to_be_focused()
    expect(page.get_by_label("Why pause")).to_be_visible()  # the open menu stayed open
    assert page_problems.messages == []


def test_the_console_on_a_phone_and_at_200_percent(
    app: Flask, world: ExamWorld, open_context: ContextFactory
) -> None:
    sitting = _ana_sitting(world)
    world.call("POST", f"/sittings/{sitting}/registrations", "ben", expect=201)
    world.call("POST", f"/sittings/{sitting}/checkin", "ben", expect=200)
    wide = open_context(viewport={"width": 1280, "height": 900}).new_page()
    _console(wide, world, sitting)
    wide.get_by_text("Act on Ana").click()
    screenshot(wide, "proctor-console-1280")
    for name, options in {
        "390": {"viewport": {"width": 390, "height": 844}},
        "zoom-200": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
    }.items():
        page = open_context(**options).new_page()
        _console(page, world, sitting)
        page.get_by_text("Act on Ana").click()
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"the console scrolls sideways at {name}"
        # The last action of the menu is reached by the keyboard alone and is on screen.
        terminate = page.get_by_role("button", name="Terminate… Ana")
        terminate.focus()
        expect(terminate).to_be_in_viewport()
        screenshot(page, f"proctor-console-{name}")


def _name(world: ExamWorld, who: str) -> str:
    return str(world.people[who]["user"].full_name)


def test_time_left_does_not_jump_at_the_first_live_update(
    app: Flask, world: ExamWorld, open_context: ContextFactory, clock: MovableClock
) -> None:
    sitting = _ana_sitting(world)
    clock.advance(seconds=30)
    clock.freeze()  # 89 min 30 s left: rounded down it is 89 on the page and after each update
    page = open_context().new_page()
    _console(page, world, sitting)
    time_left = page.locator('[data-registration] [data-cell="time"]')
    expect(time_left).to_have_text("89 min")
    # Blank the cell and the note: the live update writes both again, the note last.
    page.evaluate(
        "document.querySelector('[data-registration] [data-cell=\"time\"]').textContent = '';"
        "document.querySelector('[data-live-note]').textContent = ''"
    )
    expect(page.locator("[data-live-note]")).to_contain_text("As of", timeout=15_000)
    expect(time_left).to_have_text("89 min")
