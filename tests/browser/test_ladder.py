"""The ladder of credentials on My exams, in Chromium: a Contributor holder is offered the
Senior level and books it; a candidate without the Contributor credential sees it locked
and is refused with the reason."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import ContextFactory, PageProblems, screenshot_widths, sign_in_page
from tests.exam.fixtures import ExamWorld, pass_exam_on

SENIOR = "CSCM Senior Individual Contributor"
REASON = f"{SENIOR} needs a valid CSCM Contributor certificate; you have none."


def _step(page: Page, name: str) -> Locator:
    return page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=name))


def test_a_holder_is_offered_the_next_level_and_others_are_told_why_not(
    open_context: ContextFactory,
    app: Flask,
    world: ExamWorld,
    ladder: None,
    page_problems: PageProblems,
) -> None:
    pass_exam_on(world, app, "cscm-contributor")
    world.schedule(blueprint="cscm-senior", title="Senior Individual Contributor, December")

    ana = open_context().new_page()
    sign_in_page(ana, world.people["ana"]["user"].email)
    ana.goto("/exams")
    ladder = ana.get_by_role("region", name="Your credentials")
    expect(ladder).to_be_visible()
    expect(_step(ana, "CSCM Contributor")).to_contain_text("Held")
    expect(_step(ana, "CSCM Contributor")).to_contain_text("Valid until")
    expect(_step(ana, SENIOR)).to_contain_text("Available")
    screenshot_widths(ana, "ladder-holder")
    _step(ana, SENIOR).get_by_role("link", name="open sittings").click()
    ana.get_by_role("button", name="Register for Senior Individual Contributor, December").click()
    expect(ana.get_by_text("Senior Individual Contributor, December").first).to_be_visible()
    expect(ana.get_by_role("alert")).to_have_count(0)

    ben = open_context().new_page()
    sign_in_page(ben, world.people["ben"]["user"].email)
    ben.goto("/exams")
    expect(_step(ben, SENIOR)).to_contain_text("Locked")
    expect(_step(ben, SENIOR)).to_contain_text(REASON)
    expect(_step(ben, "CSCM Contributor")).to_contain_text("Available")
    screenshot_widths(ben, "ladder-locked")
    ben.goto("/sittings")
    ben.get_by_role("button", name="Register for Senior Individual Contributor, December").click()
    refusal = ben.get_by_role("alert")
    expect(refusal).to_contain_text("You cannot register for Senior Individual Contributor")
    expect(refusal).to_contain_text(REASON)
    assert page_problems.messages == []
