"""Staff use the item bank in Chromium: write with preview, review, coverage; no script ever runs."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageProblems, screenshot
from tests.conftest import STRONG_PASSWORD

HOSTILE_STEM = '<script>window.__pwned = true</script><img src=x onerror="window.__pwned = true"> **Which** is right? 🙂 مرحبا &amp;'


def _sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_writer_writes_previews_and_submits_an_item(
    page: Page, app: Flask, make_user, first_level, page_problems: PageProblems
) -> None:
    writer = make_user("item_writer", given_name="Wanda")
    _sign_in(page, writer.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Item bank").click()
    page.get_by_role("link", name="Write an item").click()
    page.get_by_label("Stem").fill(HOSTILE_STEM)
    page.get_by_label("Option A").fill("<b>bold?</b>")
    page.get_by_label("Option B").fill("Right answer")
    page.get_by_label("Option C").fill("שלום עולם")
    page.get_by_role("checkbox", name="B", exact=True).check()
    page.get_by_label("Rationale").fill("B is right because it is the only defensible answer.")
    page.get_by_label("Primary competency").select_option("CU.KN.TERM.01")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="As the candidate sees it")
    expect(preview).to_contain_text("<script>window.__pwned = true</script>")
    expect(preview).to_contain_text("<b>bold?</b>")
    expect(preview.locator("strong")).to_have_text("Which")
    screenshot(page, "item-editor-preview")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    expect(page.get_by_role("heading", name="As the candidate sees it")).to_be_visible()
    screenshot(page, "item-detail")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("now in review")
    assert page.evaluate("() => window.__pwned === undefined")
    assert page_problems.messages == []


def test_reviewer_queue_coverage_and_framework(
    page: Page, app: Flask, make_user, sample_bank, page_problems: PageProblems
) -> None:
    reviewer = make_user("item_reviewer", "exam_admin", given_name="Rita")
    _sign_in(page, reviewer.email)
    page.goto("/item-bank/items?competency=CO.KN.TERM")
    expect(page.get_by_role("status")).to_contain_text("items found")
    expect(page.get_by_role("link", name="CO.KN.TERM.03-2")).to_be_visible()
    screenshot(page, "item-list")
    page.goto("/item-bank/review")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    screenshot(page, "review-queue")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Coverage").click()
    expect(
        page.get_by_role("heading", name="3 distinct forms without reusing an item")
    ).to_be_visible()
    screenshot(page, "coverage")
    page.goto("/item-bank/blueprints/first-level")
    expect(page.get_by_role("heading", name="Change the rules")).to_be_visible()
    screenshot(page, "blueprint")
    page.goto("/framework")
    expect(page.get_by_text("CU.SK.COMM.01", exact=True)).to_be_visible()
    screenshot(page, "framework")
    assert page_problems.messages == []
