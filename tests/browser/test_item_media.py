"""An item with an image in Chromium: a candidate on a 390 px phone answers it with the
keyboard alone (open the image large, close it, choose, save); the page at 1280 px with
a 200 % device scale, at 200 % zoom, and the authoring form with its media."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.db import get_db
from exam.models import Response
from item_bank.models import Item
from tests.browser.conftest import ContextFactory, PageProblems, screenshot, sign_in_page
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture
from tests.exam.test_media_delivery import put_media_item_first
from tests.item_bank.media_fixtures import CHART_ALT, TRANSCRIPT


def _tab_to(page: Page, test: str, most: int = 60) -> None:
    """Press Tab until the focused element passes ``test`` (a JS expression on ``el``)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {test}; }})()"):
            return
    raise AssertionError(f"Tab never reached {test}")


def _no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className"
        " + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 12)"
    )
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), wide


def test_a_candidate_answers_an_image_item_by_keyboard_on_a_phone(
    app: Flask, world: ExamWorld, open_context: ContextFactory, page_problems: PageProblems
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    put_media_item_first(app, attempt["id"])
    question = f"/exams/attempts/{attempt['id']}/q/1"

    phone = open_context(viewport={"width": 390, "height": 844}).new_page()
    phone.on("pageerror", page_problems.on_error)
    phone.on("response", page_problems.on_response)
    sign_in_page(phone, world.people["ana"]["user"].email)
    phone.goto(question)
    image = phone.get_by_role("img", name=CHART_ALT).first
    expect(image).to_be_visible()
    assert image.bounding_box()["width"] <= 390 - 16
    expect(phone.get_by_text(TRANSCRIPT)).to_be_visible()
    _no_sideways_scroll(phone)
    screenshot(phone, "exam-question-image-390")

    _tab_to(phone, "el.matches('[data-media-zoom]')")
    zoom = phone.get_by_role("button", name="Enlarge image")
    expect(zoom).to_be_focused()
    phone.keyboard.press("Enter")
    dialog = phone.get_by_role("dialog", name="Enlarged image")
    expect(dialog).to_be_visible()
    big = dialog.get_by_role("img", name=CHART_ALT)
    assert big.bounding_box()["width"] <= 390
    screenshot(phone, "exam-question-image-390-enlarged")
    phone.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(zoom).to_be_focused()

    _tab_to(phone, "el.type === 'radio'")
    phone.keyboard.press("ArrowDown")  # from "They fell" to "They rose"
    expect(phone.get_by_label("They rose")).to_be_checked()
    expect(phone.locator("[data-save-state]")).to_have_text("All answers saved.")
    _tab_to(phone, "el.textContent.trim() === 'Save and next'")
    phone.keyboard.press("Enter")
    expect(phone.get_by_text("Question 2 of")).to_be_visible()
    with get_db(app).read_sessions() as session:
        saved = session.scalars(select(Response).where(Response.position == 1)).one()
    assert saved.selected == ["B"]

    wide = open_context(viewport={"width": 1280, "height": 900}, device_scale_factor=2).new_page()
    wide.on("pageerror", page_problems.on_error)
    sign_in_page(wide, world.people["ana"]["user"].email)
    wide.goto(question)
    expect(wide.get_by_role("img", name=CHART_ALT).first).to_be_visible()
    screenshot(wide, "exam-question-image-1280-2x")
    # 200 % zoom on a 1280 px screen lays the page out 640 CSS px wide.
    zoomed = open_context(viewport={"width": 640, "height": 450}, device_scale_factor=2).new_page()
    sign_in_page(zoomed, world.people["ana"]["user"].email)
    zoomed.goto(question)
    expect(zoomed.get_by_role("button", name="Enlarge image")).to_be_visible()
    _no_sideways_scroll(zoomed)
    screenshot(zoomed, "exam-question-image-zoom-200")
    assert page_problems.messages == []


def test_the_authoring_form_shows_the_media_and_their_words(
    app: Flask, world: ExamWorld, make_user, page: Page, page_problems: PageProblems
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    put_media_item_first(app, world.start("ana", sitting)["id"])
    with get_db(app).read_sessions() as session:
        item_id = session.scalars(select(Item.id).where(Item.ref == "chart-item")).one()
    writer = make_user("item_writer", given_name="Wanda")
    sign_in_page(page, writer.email)
    page.goto(f"/item-bank/items/{item_id}/edit")
    expect(page.get_by_label("Alt text", exact=True)).to_have_value(CHART_ALT)
    expect(page.get_by_label("Transcript or description", exact=True)).to_have_value(TRANSCRIPT)
    expect(page.get_by_label("Add an image or audio file")).to_be_visible()
    screenshot(page, "item-editor-media")
    page.goto(f"/item-bank/items/{item_id}")
    expect(page.get_by_role("img", name=CHART_ALT).first).to_be_visible()
    screenshot(page, "item-page-media")
    # The preview's options cannot be chosen, but its image still opens large.
    expect(page.locator(".question-preview input").first).to_be_disabled()
    zoom = page.get_by_role("button", name="Enlarge image")
    expect(zoom).to_be_enabled()
    zoom.click()
    expect(page.get_by_role("dialog", name="Enlarged image")).to_be_visible()
    screenshot(page, "item-page-media-enlarged")
    assert page_problems.messages == []
