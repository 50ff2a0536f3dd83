"""The item editor's keys beside their options, "Choose how many" only where it applies,
Markdown in the lists, the reviewer's checklist and the blueprint page: in Chromium."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageProblems, screenshot_widths, sign_in_page
from tests.conftest import api_token, bearer
from tests.item_bank.fixtures import act, create


def test_keys_are_ticked_beside_their_options_and_choose_follows_the_type(
    page: Page, app: Flask, make_user, first_level, page_problems: PageProblems
) -> None:
    writer = make_user("item_writer", given_name="Wanda")
    sign_in_page(page, writer.email)
    page.goto("/item-bank/items/new")
    choose = page.get_by_label("Choose how many")
    expect(choose).to_be_hidden()
    page.get_by_label("Stem").fill("Which **two** are retention measures?")
    for letter, text in zip(
        "ABC", ("Gross revenue retention", "Logo retention", "Page views"), strict=True
    ):
        page.get_by_label(f"Option {letter}", exact=True).fill(text)
    # The tick sits on the option's own row, to its right.
    option_box = page.get_by_label("Option B", exact=True).bounding_box()
    tick_box = page.get_by_role("checkbox", name="Correct answer B").bounding_box()
    assert option_box and tick_box
    assert tick_box["x"] > option_box["x"] + option_box["width"] - 1
    assert option_box["y"] <= tick_box["y"] <= option_box["y"] + option_box["height"]
    page.get_by_label("Item type").select_option("multiple_response")
    expect(choose).to_be_visible()
    page.get_by_role("checkbox", name="Correct answer A").check()
    page.get_by_role("checkbox", name="Correct answer B").check()
    choose.fill("2")
    page.get_by_label("Rationale").fill("Both retention figures; page views measure use.")
    page.get_by_label("Primary competency").select_option("CU.KN.TERM.01")
    screenshot_widths(page, "item-editor")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    expect(page.get_by_text("multiple response (choose 2)")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Item CU.KN.TERM.01-1")

    page.goto("/item-bank/items/new")
    page.get_by_label("Item type").select_option("multiple_response")
    page.get_by_label("Choose how many").fill("3")
    page.get_by_label("Item type").select_option("single_choice")
    expect(page.get_by_label("Choose how many")).to_be_hidden()
    assert page_problems.messages == []


def test_lists_show_markdown_and_the_reviewer_sees_the_checklist(
    page: Page, app: Flask, make_user, first_level, page_problems: PageProblems
) -> None:
    writer = make_user("item_writer", given_name="Wanda")
    reviewer = make_user("item_reviewer", "exam_admin", given_name="Rita")
    api = app.test_client()
    headers = bearer(api_token(api, writer.email))
    item = create(api, headers, stem="Which comes **first** in onboarding?", ref="ONB-1")
    act(api, headers, item["id"], "submit")
    sign_in_page(page, reviewer.email)
    page.goto("/item-bank/review")
    expect(page.get_by_role("row", name="ONB-1").locator("strong")).to_have_text("first")
    screenshot_widths(page, "review-queue")
    page.goto("/item-bank/items")
    expect(page.get_by_role("row", name="ONB-1").locator("strong")).to_have_text("first")
    screenshot_widths(page, "item-list")
    page.get_by_role("link", name="ONB-1").click()
    checklist = page.get_by_role("group", name="Before you approve")
    expect(checklist.get_by_role("listitem")).to_have_count(5)
    expect(checklist).to_contain_text("draws 12 of its 60 items from CU.KN")
    screenshot_widths(page, "item-review-checklist")
    page.goto("/item-bank/blueprints/first-level")
    expect(page.get_by_role("row", name="CU.SK").get_by_role("cell").nth(1)).to_have_text("24")
    screenshot_widths(page, "blueprint")
    assert page_problems.messages == []
