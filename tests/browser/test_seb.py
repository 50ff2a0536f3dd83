"""Safe Exam Browser in Chromium: staff require it on the sitting's page by uploading the
.seb file, and a candidate in an ordinary browser is shown how to start in SEB."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageProblems, screenshot, sign_in_page
from tests.exam.fixtures import open_now
from tests.exam.seb.test_config_key import HERE


def test_staff_require_seb_and_a_candidate_is_told_how_to_start_in_it(
    page: Page, app: Flask, make_user, sample_bank, page_problems: PageProblems, clock
) -> None:
    admin, proctor = make_user("exam_admin"), make_user("proctor")
    candidate = make_user("candidate", given_name="Oskar")
    open_now(
        app,
        clock,
        admin=admin,
        proctor=proctor,
        candidates=[candidate],
        title="First Level, SEB sitting",
    )
    sign_in_page(page, admin.email)
    page.goto("/staff/sittings")
    page.get_by_role("link", name="Edit First Level, SEB sitting").click()
    page.get_by_label("Require Safe Exam Browser for this sitting").check()
    page.get_by_label("SEB configuration file (.seb)").set_input_files(
        str(HERE / "first-level.seb.xml")
    )
    page.get_by_role("button", name="Save the Safe Exam Browser settings").click()
    expect(page.get_by_role("status").first).to_contain_text("requires Safe Exam Browser")
    expect(page.get_by_text("first-level.seb", exact=True)).to_be_visible()
    page.locator("#seb-title").scroll_into_view_if_needed()
    screenshot(page, "staff-sitting-seb")
    page.get_by_role("button", name="Sign out").click()

    sign_in_page(page, candidate.email)
    page.goto("/exams")
    page.get_by_role("button", name="Start the exam").click()
    expect(page.get_by_role("heading", name="Start this exam in Safe Exam Browser")).to_be_visible()
    link = page.get_by_role("link", name="Open the exam in Safe Exam Browser")
    assert link.get_attribute("href", timeout=5_000).startswith("seb://127.0.0.1:")
    expect(page.get_by_role("link", name="download the .seb file")).to_be_visible()
    screenshot(page, "seb-start")
    with page.expect_download() as download:
        page.get_by_role("link", name="download the .seb file").click()
    assert download.value.suggested_filename.endswith(".seb")
    assert page_problems.messages == []
