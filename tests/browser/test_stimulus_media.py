"""A scenario with images in Chromium: a candidate on a 390 px phone reads the passage and
its exhibits, opens one large and answers the question with the keyboard alone; the page
at 1280 px; a writer attaches an image with its alt text on the scenario's editor."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.db import get_db
from exam.models import Response
from item_bank.media_models import StimulusVersionMedia
from tests.browser.conftest import (
    ContextFactory,
    PageProblems,
    screenshot,
    screenshot_widths,
    sign_in_page,
)
from tests.browser.test_stimulus import PHONE, _no_sideways_scroll, _tab_to
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture
from tests.exam.test_stimulus_media_delivery import OTHER_ALT, ana_on_the_scenario
from tests.item_bank.media_fixtures import CHART_ALT, png_chart


def test_a_candidate_answers_a_scenario_question_with_an_image_by_keyboard_on_a_phone(
    app: Flask, world: ExamWorld, open_context: ContextFactory, page_problems: PageProblems
) -> None:
    attempt, _ = ana_on_the_scenario(app, world)
    question = f"/exams/attempts/{attempt['id']}/q/1"
    phone = open_context(viewport=PHONE).new_page()
    phone.on("pageerror", page_problems.on_error)
    phone.on("response", page_problems.on_response)
    sign_in_page(phone, world.people["ana"]["user"].email)
    phone.goto(question)

    passage = phone.get_by_role("region", name="Renewals")
    expect(passage).to_be_visible()
    chart = passage.get_by_role("img", name=CHART_ALT).first
    expect(chart).to_be_visible()
    expect(passage.get_by_role("img", name=OTHER_ALT).first).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] <= PHONE["width"] - 16, "the image scales to the phone"
    assert phone.evaluate("document.querySelector('#stimulus-1 .media-img').naturalWidth"), (
        "the exhibit's file was served"
    )
    _no_sideways_scroll(phone)
    screenshot(phone, "exam-scenario-image-phone")

    _tab_to(phone, "[data-stimulus]")  # the passage, then its first image's zoom button
    _tab_to(phone, "[data-media-zoom]")
    zoom = phone.get_by_role("button", name="Enlarge image 1")
    expect(zoom).to_be_focused()
    phone.keyboard.press("Enter")
    dialog = phone.get_by_role("dialog", name="Enlarged image 1")
    expect(dialog).to_be_visible()
    big = dialog.get_by_role("img", name=CHART_ALT).bounding_box()
    assert big and big["width"] <= PHONE["width"]
    screenshot(phone, "exam-scenario-image-phone-enlarged")
    phone.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(zoom).to_be_focused()

    _tab_to(phone, "input[name=answer]")
    phone.keyboard.press("ArrowDown")  # from "Value gap" to "Consumption gap"
    expect(phone.get_by_role("radio", name="Consumption gap").first).to_be_checked()
    expect(phone.locator("[data-save-state]")).to_have_text("All answers saved.")
    _tab_to(phone, "button[value=next]:not(.visually-hidden)")
    phone.keyboard.press("Enter")
    expect(phone.get_by_text("Question 2 of")).to_be_visible()
    with get_db(app).read_sessions() as session:
        saved = session.scalars(select(Response).where(Response.position == 1)).one()
    assert saved.selected == ["B"]

    wide = open_context(viewport={"width": 1280, "height": 900}).new_page()
    wide.on("pageerror", page_problems.on_error)
    sign_in_page(wide, world.people["ana"]["user"].email)
    wide.goto(question)
    expect(
        wide.get_by_role("region", name="Renewals").get_by_role("img", name=CHART_ALT)
    ).to_be_visible()
    screenshot_widths(wide, "exam-scenario-image")
    assert page_problems.messages == []


def test_a_writer_attaches_an_image_to_a_scenario_with_its_alt_text(
    app: Flask,
    first_level: None,
    make_user,
    page: Page,
    page_problems: PageProblems,
    tmp_path: Path,
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(png_chart())
    writer = make_user("item_writer", given_name="Wanda")
    sign_in_page(page, writer.email)
    page.goto("/item-bank/stimuli/new")
    page.get_by_label("Title").fill("Northgate's renewals")
    page.get_by_label("Passage").fill("The chart shows a year of renewals.")
    page.get_by_label("Add an image or audio file").set_input_files(str(chart))
    page.get_by_role("button", name="Save scenario").click()
    expect(page.locator("#media-error")).to_contain_text("An image needs alt text")  # kept
    screenshot(page, "staff-scenario-exhibit-refused")
    page.get_by_label("Alt text", exact=True).fill(CHART_ALT)
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_role("heading", name="Items in this scenario's set")).to_be_visible()
    expect(
        page.get_by_role("region", name="Northgate's renewals").get_by_role("img", name=CHART_ALT)
    ).to_be_visible()
    screenshot_widths(page, "staff-scenario-exhibit")
    page.locator(".page-head").get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Alt text", exact=True)).to_have_value(CHART_ALT)
    screenshot(page, "staff-scenario-editor-exhibit")
    with get_db(app).read_sessions() as session:
        assert [m.alt for m in session.scalars(select(StimulusVersionMedia))] == [CHART_ALT]
    assert page_problems.messages == []
