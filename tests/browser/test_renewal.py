"""Renewal by credits in Chromium: a Senior holder logs continuing-education activities
with their evidence, staff accept them, and the holder renews; the new certificate's
verify page shows the chain and the old one's names its successor."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Locator, Page, expect

from accreditation.demo import plain_pdf
from core import clock
from tests.browser.conftest import ContextFactory, PageProblems, screenshot_widths, sign_in_page
from tests.exam.fixtures import ExamWorld, pass_exam_on

SENIOR = re.compile("CSCM Senior Individual Contributor")


def _senior(page: Page) -> Locator:
    return page.get_by_role("region", name=SENIOR)


def _log(page: Page, title: str, credits: str, area: str, evidence: bytes | None = None) -> None:
    panel = _senior(page)
    panel.get_by_text("Log an activity").click()
    panel.get_by_label("Activity").fill(title)
    panel.get_by_label("Provider").fill("Customer Success Association")
    panel.get_by_label("Date").fill(clock.now().date().isoformat())
    panel.get_by_label("Credits").fill(credits)
    panel.get_by_label("Area").select_option(label=area)
    panel.get_by_label("Evidence (PDF, at most 10 MB)").set_input_files(
        {
            "name": "attendance.pdf",
            "mimeType": "application/pdf",
            "buffer": plain_pdf(title) if evidence is None else evidence,
        }
    )
    panel.get_by_role("button", name="Log the activity").click()


def _logged(page: Page, title: str, credits: str, area: str) -> None:
    _log(page, title, credits, area)
    logged = page.get_by_text("Activity logged. Staff review it against its evidence.")
    expect(logged).to_be_visible()


def test_a_holder_logs_credits_staff_accept_them_and_the_holder_renews(
    open_context: ContextFactory,
    app: Flask,
    world: ExamWorld,
    ladder: None,
    page_problems: PageProblems,
) -> None:
    pass_exam_on(world, app, "cscm-contributor")
    senior_code = pass_exam_on(world, app, "cscm-senior")["code"]

    ana = open_context().new_page()
    sign_in_page(ana, world.people["ana"]["user"].email)
    ana.goto("/certificates")
    expect(_senior(ana)).to_contain_text("Renew by continuing education: 20 credits")
    expect(_senior(ana)).to_contain_text("0 of 20 credits accepted; 20 still needed.")
    _logged(ana, "Renewal conversations workshop", "12", "Customer Relationships")
    # A file that is not a PDF is refused on its field, the form open again, nothing logged.
    _log(ana, "Notes", "3", "Team Leadership", evidence=b"<html>no</html>")
    expect(_senior(ana).locator(".field-error")).to_contain_text("is not a PDF document")
    expect(_senior(ana).get_by_label("Activity")).to_have_value("Notes")
    screenshot_widths(ana, "renewal-refused")
    ana.goto("/certificates")
    _logged(ana, "Leading a customer success team", "8", "Team Leadership")
    expect(_senior(ana)).to_contain_text("0 of 20 credits accepted, 20 awaiting review")
    screenshot_widths(ana, "renewal-logged")

    staff = open_context().new_page()
    sign_in_page(staff, world.people["admin"]["user"].email)
    staff.goto("/staff/certificates")
    staff.get_by_role("link", name="Renewal credits to review (2)").click()
    expect(staff.get_by_role("heading", name="Renewal credits to review")).to_be_visible()
    screenshot_widths(staff, "renewal-queue")
    for title in ("Renewal conversations workshop", "Leading a customer success team"):
        staff.get_by_role("button", name=f"Accept {title}").click()
        expect(staff.get_by_text("Entry accepted")).to_be_visible()
    expect(staff.get_by_text("No entries are waiting for review.")).to_be_visible()

    ana.goto("/certificates")
    expect(_senior(ana)).to_contain_text("20 of 20 credits accepted: enough to renew.")
    screenshot_widths(ana, "renewal-ready")
    _senior(ana).get_by_role("button", name=re.compile("Renew now")).click()
    expect(ana.get_by_text(re.compile(r"Renewed: certificate \S+ continues it"))).to_be_visible()
    expect(ana.get_by_text("superseded by a newer certificate")).to_be_visible()
    old_panel = ana.get_by_role("region", name=re.compile("Senior.*superseded"))
    expect(old_panel).to_contain_text(senior_code)
    screenshot_widths(ana, "renewal-renewed")

    # The old certificate's verify page names its successor; the new one's, the history.
    ana.goto(f"/certificates/{senior_code}")
    old_link = ana.locator("#verify-link").get_attribute("href")
    assert old_link
    visitor = open_context(base_url=None).new_page()
    visitor.goto(old_link)
    superseded = visitor.locator("dt", has_text="Superseded").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(superseded).to_contain_text("By a newer certificate of the same holder")
    screenshot_widths(visitor, "renewal-verify-superseded")
    superseded.get_by_role("link").click()
    expect(visitor.get_by_role("heading", name="Valid certificate")).to_be_visible()
    expect(visitor.get_by_role("heading", name="History")).to_be_visible()
    expect(visitor.get_by_text("by continuing education the issuer reviewed")).to_be_visible()
    expect(visitor.locator(".chain-history")).to_contain_text(senior_code)
    expect(visitor.locator(".chain-history")).to_contain_text("superseded")
    screenshot_widths(visitor, "renewal-verify-history")
    assert page_problems.messages == []
