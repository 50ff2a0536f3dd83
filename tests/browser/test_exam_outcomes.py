"""Pages only a decision reaches, opened in Chromium at 1280 and 390 px and checked by axe:
the proctor's confirmation before ending an exam or turning someone away, the void result
with the proctor's reason, and the pass with its certificate link."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import ContextFactory, screenshot_widths, sign_in_page
from tests.certificates.fixtures import all_certificates, passed_attempt
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture


def _signed_in(open_context: ContextFactory, world: ExamWorld, who: str) -> Page:
    page = open_context().new_page()
    sign_in_page(page, world.people[who]["user"].email)
    return page


def _name(world: ExamWorld, who: str) -> str:
    return str(world.people[who]["user"].full_name)


def test_the_proctor_confirms_and_the_candidate_reads_why_the_exam_is_void(
    app: Flask, world: ExamWorld, open_context: ContextFactory
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    world.call("POST", f"/sittings/{sitting}/registrations", "ben", expect=201)
    world.call("POST", f"/sittings/{sitting}/checkin", "ben", expect=200)
    ana, ben = _name(world, "ana"), _name(world, "ben")
    desk = _signed_in(open_context, world, "proctor")
    console = f"/proctor/sittings/{sitting}"

    desk.goto(console)
    desk.get_by_role("button", name="Turn away: identity mismatch…").click()
    expect(desk.get_by_role("heading", name=f"Turn {ben} away?")).to_be_visible()
    expect(desk.get_by_text("identity mismatch", exact=True)).to_be_visible()
    screenshot_widths(desk, "proctor-confirm-turn-away")
    desk.get_by_role("link", name="← Back to the console, changing nothing").click()
    expect(desk.get_by_role("heading", name="Waiting to be admitted (1)")).to_be_visible()

    desk.get_by_text(f"Act on {ana}").click()
    desk.get_by_label("Minutes to add").fill("15")
    desk.get_by_label("Why", exact=True).fill("Fire alarm")
    desk.get_by_role("button", name=f"Add time… for {ana}").click()
    expect(desk.get_by_role("heading", name=f"Give {ana} 15 more minutes?")).to_be_visible()
    expect(desk.get_by_text("Time added cannot be taken back")).to_be_visible()
    screenshot_widths(desk, "proctor-confirm-extend")
    desk.get_by_role("button", name="Add 15 minutes").click()
    expect(desk.get_by_role("heading", name="Roster")).to_be_visible()

    desk.get_by_text(f"Act on {ana}").click()
    desk.get_by_label("Why end this exam").fill("Phone in use")
    desk.get_by_role("button", name=f"Terminate… {ana}'s exam").click()
    expect(desk.get_by_role("heading", name=f"End {ana}'s exam?")).to_be_visible()
    expect(desk.get_by_text("Phone in use")).to_be_visible()
    screenshot_widths(desk, "proctor-confirm-terminate")
    desk.get_by_role("button", name="End the exam").click()
    expect(desk.get_by_role("heading", name="Roster")).to_be_visible()

    candidate = _signed_in(open_context, world, "ana")
    candidate.goto(f"/exams/attempts/{attempt['id']}/result")
    expect(candidate.get_by_role("heading", name="This attempt is void")).to_be_visible()
    expect(candidate.get_by_text("The proctor ended the exam: Phone in use")).to_be_visible()
    expect(candidate.get_by_text("By competency area")).to_have_count(0)
    screenshot_widths(candidate, "result-void")


def test_a_pass_links_its_certificate(
    app: Flask, world: ExamWorld, open_context: ContextFactory
) -> None:
    attempt = passed_attempt(app, world)
    [certificate] = all_certificates(app)
    page = _signed_in(open_context, world, "ana")
    page.goto(f"/exams/attempts/{attempt['id']}/result")
    expect(page.get_by_text("You passed")).to_be_visible()
    screenshot_widths(page, "result-pass")
    # On a phone the score table stacks instead of scrolling sideways, and the chart's
    # labels keep their size instead of shrinking with the drawing.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(
        "[...document.querySelectorAll('.table-wrap')].every(w => w.scrollWidth <= w.clientWidth)"
    )
    label = page.locator(".result-chart .chart-label").first
    assert label.evaluate("t => t.getBoundingClientRect().height") >= 14
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="See your certificate").click()
    expect(page).to_have_url(
        f"{page.url.split('/certificates/')[0]}/certificates/{certificate.code}"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(certificate.title)
