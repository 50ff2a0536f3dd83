"""The provider's application in steps, in Chromium: each step saves itself as the
provider types (and says so), the Save button works without JavaScript, and the summary
lists what is missing in the form's order, each linked to its field, and warns about low
coverage and an unverified trainer with the reason, without blocking what the rules allow."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accreditation.models import Application
from core.db import get_db
from tests.accreditation.fixtures import AccreditationWorld, draft_with_document
from tests.browser.conftest import ContextFactory, PageProblems, screenshot, sign_in_page


def _content(app: Flask, application_id: int) -> dict:
    with get_db(app).read_sessions() as session:
        application = session.scalars(
            select(Application).where(Application.id == application_id)
        ).one()
        return dict(application.content)


def _pia(open_context: ContextFactory, problems: PageProblems, **options: object) -> Page:
    page = open_context(**options).new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", problems.on_error)
    page.on("console", problems.on_console)
    sign_in_page(page, "pia@example.org")
    return page


def test_each_step_saves_itself_and_the_summary_links_what_is_missing(
    open_context: ContextFactory,
    app: Flask,
    accreditation: AccreditationWorld,
    page_problems: PageProblems,
) -> None:
    pia = _pia(open_context, page_problems)
    pia.goto("/provider")
    pia.get_by_label("Programme title").fill("Renewal Skills")
    pia.get_by_role("button", name="Start an application").click()
    expect(pia.get_by_role("heading", name="The programme")).to_be_visible()
    application_id = int(pia.url.split("/applications/")[1].split("/")[0])

    pia.get_by_label("Description").fill("Two days on renewals for account managers.")
    status = pia.locator("[data-save-status]")
    expect(status).to_contain_text("Saved at")
    assert _content(app, application_id)["description"].startswith("Two days on renewals")
    screenshot(pia, "accreditation-step-programme")

    pia.get_by_role("link", name="Trainers", exact=True).click()
    expect(pia.get_by_role("heading", name="Trainers")).to_be_visible()
    pia.get_by_label("Trainer 1: name").fill("Tom Trainer")
    pia.get_by_label("Trainer 1: certificate code").fill("CSM1-ABCD-EFGH")
    expect(status).to_contain_text("Saved at")
    pia.reload()
    expect(pia.get_by_label("Trainer 1: name")).to_have_value("Tom Trainer")
    expect(pia.locator("#trainer-0-check")).to_contain_text(
        "no certificate CSM1-ABCD-EFGH for family name Trainer"
    )

    # the first area: one competency answered, the others left
    pia.get_by_role("button", name="Save and continue").click()
    table = pia.locator(".mapping-table")
    first = table.locator("tbody tr th .code").first.inner_text()
    pia.locator(f'[name="map-{first}-module"]').fill("Module 1")
    pia.locator(f'[name="map-{first}-minutes"]').fill("45")
    pia.locator(f'[name="map-{first}-outcome"]').fill("Can plan a renewal.")
    expect(status).to_contain_text("Saved at")
    screenshot(pia, "accreditation-step-area")
    assert _content(app, application_id)["mapping"][first]["minutes"] == 45

    pia.get_by_role("link", name="Check and submit").click()
    expect(pia.get_by_role("heading", name="Check and submit")).to_be_visible()
    missing = pia.locator("section", has=pia.get_by_role("heading", name="Still missing"))
    lines = missing.locator("li").all_inner_texts()
    assert lines[:3] == [
        "Choose how it is delivered.",
        "Give the contact hours.",
        "Say how learners are assessed.",
    ]
    assert "neither a module nor a reason" in lines[3]
    assert lines[-2:] == ["Attach the evidence (PDF).", "Accept the declaration."]
    warnings = pia.locator("section", has=pia.get_by_role("heading", name="Worth a second look"))
    expect(warnings).to_contain_text(
        "Tom Trainer is not verified: no certificate CSM1-ABCD-EFGH for family name Trainer."
    )
    expect(warnings).not_to_contain_text("% covered")  # its gaps are listed as missing
    expect(pia.get_by_role("button", name="Submit the application")).to_be_disabled()
    screenshot(pia, "accreditation-step-summary")

    missing.get_by_role("link", name="Give the contact hours.").click()
    assert pia.url.endswith("/steps/programme#contact_hours")
    expect(pia.get_by_label("Contact hours")).to_be_in_viewport()
    assert page_problems.messages == []


def test_a_step_saves_without_javascript_and_warnings_do_not_block(
    open_context: ContextFactory,
    app: Flask,
    accreditation: AccreditationWorld,
    page_problems: PageProblems,
) -> None:
    # complete, but one area half covered (reasons given) and the trainer unverified
    application_id = draft_with_document(
        accreditation,
        uncovered=4,
        trainers=[{"name": "Tom Trainer", "certificate_code": "CSM1-ABCD-EFGH"}],
    )
    pia = _pia(open_context, page_problems, java_script_enabled=False)
    pia.goto(f"/applications/{application_id}/steps/programme")
    pia.get_by_label("Contact hours").fill("40")
    pia.get_by_role("button", name="Save", exact=True).click()
    expect(pia.get_by_role("status").first).to_contain_text("Saved.")
    assert _content(app, application_id)["contact_hours"] == 40

    pia.get_by_label("Contact hours").fill("0")
    pia.get_by_role("button", name="Save", exact=True).click()
    expect(pia.get_by_role("alert")).to_contain_text("contact hours")
    assert _content(app, application_id)["contact_hours"] == 40

    pia.goto(f"/applications/{application_id}/steps/summary")
    expect(pia.get_by_role("heading", name="Still missing")).to_have_count(0)
    warnings = pia.locator("section", has=pia.get_by_role("heading", name="Worth a second look"))
    expect(warnings).to_contain_text("Tom Trainer is not verified")
    expect(warnings).to_contain_text("Concepts (CO.KN.CON) is 50% covered (4 of 8 competencies)")
    pia.get_by_role("button", name="Submit the application").click()
    expect(pia.get_by_role("status").first).to_contain_text("now submitted")


def test_every_step_fits_a_phone_and_200_percent_zoom(
    open_context: ContextFactory, accreditation: AccreditationWorld, page_problems: PageProblems
) -> None:
    application_id = draft_with_document(accreditation, uncovered=8)
    steps = ("programme", "trainers", "area-CU.SK.COMM", "evidence", "declaration", "summary")
    for name, options in {
        "1280": {"viewport": {"width": 1280, "height": 900}},
        "390": {"viewport": {"width": 390, "height": 844}},
        "zoom-200": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
    }.items():
        pia = _pia(open_context, page_problems, **options)
        for slug in steps:
            pia.goto(f"/applications/{application_id}/steps/{slug}")
            width = pia.evaluate("document.documentElement.clientWidth")
            overflow = pia.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, (name, slug, overflow, width)
            screenshot(pia, f"accreditation-step-{slug.split('-')[0]}-{name}")
        table = pia.locator(".mapping-table")
        pia.goto(f"/applications/{application_id}/steps/area-CU.SK.COMM")
        box = table.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width + 1, name
        pia.goto(f"/applications/{application_id}")
        screenshot(pia, f"accreditation-application-draft-{name}")
