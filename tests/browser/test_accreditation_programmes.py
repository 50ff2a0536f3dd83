"""Accreditation across programmes, in Chromium: a provider starts an application for the
sample Contributor programme and maps it to that framework; the public register filters
accredited training by the certification it prepares for."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import expect

from tests.accreditation.fixtures import AccreditationWorld
from tests.browser.conftest import ContextFactory, PageProblems, screenshot_widths, sign_in_page


def test_a_provider_applies_for_another_programme_and_the_register_filters_by_it(
    open_context: ContextFactory,
    live_server: str,
    app: Flask,
    accreditation: AccreditationWorld,
    ladder: None,
    page_problems: PageProblems,
) -> None:
    world = accreditation
    application_id = world.recommended()
    world.step(application_id, "lena", "accredit", comment="Accredited.")

    pia = open_context().new_page()
    pia.on("pageerror", page_problems.on_error)
    sign_in_page(pia, "pia@example.org")
    pia.goto("/provider")
    pia.get_by_label("Programme title").fill("Contributor bootcamp")
    pia.get_by_label("Prepares for").select_option(label="CSCM Contributor (sample)")
    screenshot_widths(pia, "accreditation-provider-programme")
    pia.get_by_role("button", name="Start an application").click()
    expect(pia.get_by_text("prepares for CSCM Contributor")).to_be_visible()
    pia.get_by_role("link", name="Customer Relationships skills").first.click()
    expect(pia.locator(".mapping-table")).to_contain_text("REL.SK.CORE.01")

    visitor = open_context().new_page()
    visitor.goto("/register")
    visitor.get_by_label("Prepares for").select_option(label="CSM Competency Standard: First Level")
    visitor.get_by_role("button", name="Search").click()
    expect(visitor.get_by_role("status")).to_have_text("1 programme found.")
    expect(visitor.get_by_role("cell", name="CSM Competency Standard: First Level")).to_be_visible()
    screenshot_widths(visitor, "register-by-programme")
    visitor.get_by_label("Prepares for").select_option(label="CSCM Contributor (sample)")
    visitor.get_by_role("button", name="Search").click()
    expect(visitor.get_by_role("status")).to_have_text("0 programmes found.")
    assert page_problems.messages == []
