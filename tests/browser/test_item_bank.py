"""Staff use the item bank in Chromium: write with preview, review, coverage; no script ever runs."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageProblems, screenshot, screenshot_widths
from tests.conftest import STRONG_PASSWORD
from tests.item_bank.fixtures import act, create, edit

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
    page.get_by_role("checkbox", name="Correct answer B").check()
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
    page.get_by_role("button", name="Items").click()  # the header's menu
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


def test_an_approval_of_an_item_changed_under_review_is_refused_with_what_changed(
    page: Page, app: Flask, staff, page_problems: PageProblems
) -> None:
    api, writer = app.test_client(), staff["writer"]["headers"]
    item = create(api, writer, ref="STALE-1")
    act(api, writer, item["id"], "submit")
    _sign_in(page, staff["reviewer"]["user"].email)
    page.goto(f"/item-bank/items/{item['id']}")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    screenshot(page, "item-review")
    # While the page stands open, the writer withdraws, changes stem and key, resubmits.
    act(api, writer, item["id"], "withdraw")
    assert edit(api, writer, item["id"], stem="Which gap is it now?", keys=["A"]).status_code == 200
    act(api, writer, item["id"], "submit")

    page.get_by_role("button", name="Approve").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The item changed while you were reviewing it")
    expect(alert.get_by_role("listitem")).to_have_text(["stem", "key"])
    expect(page.get_by_role("region", name="As the candidate sees it")).to_contain_text(
        "Which gap is it now?"
    )
    screenshot(page, "item-review-stale")
    assert api.get(f"/api/v1/items/{item['id']}", headers=writer).get_json()["status"] == (
        "in_review"
    )
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert")).to_contain_text("Confirm every point of the checklist")
    checklist = page.get_by_role("group", name="Before you approve")
    boxes = checklist.get_by_role("checkbox")
    expect(boxes).to_have_count(5)
    for box in boxes.all():
        box.check()
    screenshot_widths(page, "item-review-checklist")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("STALE-1 version 1 is now approved.")).to_be_visible()
    assert page_problems.messages == []
