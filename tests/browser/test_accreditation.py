"""The whole accreditation path in Chromium: a provider drafts and submits, a lead screens
and assigns an assessor, the assessor asks for clarification, the provider answers, the
assessor recommends, another lead accredits, and the programme is on the public register."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect

from tests.accreditation.fixtures import PDF, AccreditationWorld, complete_content
from tests.browser.conftest import (
    ContextFactory,
    PageProblems,
    screenshot,
    screenshot_widths,
    sign_in_page,
)


def _as(open_context: ContextFactory, email: str, problems: PageProblems) -> Page:
    page = open_context().new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", problems.on_error)
    sign_in_page(page, email)
    return page


def _step(page: Page, label: str) -> None:
    page.locator("details.step summary").get_by_text(label, exact=True).click()


def test_the_whole_accreditation_path(
    open_context: ContextFactory,
    live_server: str,
    app: Flask,
    accreditation: AccreditationWorld,
    page_problems: PageProblems,
    tmp_path: Path,
) -> None:
    world = accreditation
    content = complete_content(world.leaves())
    pia = _as(open_context, "pia@example.org", page_problems)
    pia.get_by_role("link", name="Accreditation", exact=True).first.click()
    screenshot(pia, "accreditation-provider-home")
    pia.get_by_label("Programme title").fill("Customer Success Foundations")
    pia.get_by_role("button", name="Start an application").click()
    expect(pia.get_by_role("heading", name="The programme")).to_be_visible()
    pia.get_by_label("Description").fill(content["description"])
    pia.get_by_label("Delivery mode").select_option("blended")
    pia.get_by_label("Contact hours").fill("35")
    pia.get_by_label("How learners are assessed").fill(content["learner_assessment"])
    pia.get_by_role("button", name="Save and continue").click()
    expect(pia.get_by_role("heading", name="Trainers")).to_be_visible()
    pia.get_by_label("Trainer 1: name").fill("Tom Trainer")
    pia.get_by_label("Trainer 1: qualifications").fill("Ten years as a CSM lead.")
    _save_and_go_on(pia)
    while pia.locator(".mapping-table").count():  # one step per area of the standard
        for row in pia.locator(".mapping-table tbody tr").all():
            code = row.locator("th .code").inner_text()
            entry = content["mapping"][code]
            if "module" in entry:
                pia.locator(f'[name="map-{code}-module"]').fill(entry["module"])
                pia.locator(f'[name="map-{code}-minutes"]').fill(str(entry["minutes"]))
                pia.locator(f'[name="map-{code}-outcome"]').fill(entry["outcome"])
            else:
                pia.locator(f'[name="map-{code}-reason"]').fill(entry["not_covered_reason"])
        _save_and_go_on(pia)
    expect(pia.get_by_role("heading", name="Evidence documents")).to_be_visible()
    pdf = tmp_path / "handbook.pdf"
    pdf.write_bytes(PDF)
    pia.get_by_label("Add a PDF").set_input_files(str(pdf))
    pia.get_by_role("button", name="Upload").click()
    expect(pia.get_by_role("link", name="handbook.pdf")).to_be_visible()
    pia.get_by_role("link", name="Continue", exact=True).click()
    pia.get_by_label("We declare that this application is true").check()
    pia.get_by_role("button", name="Save and continue").click()
    expect(pia.get_by_role("heading", name="Check and submit")).to_be_visible()
    expect(pia.get_by_role("heading", name="Still missing")).to_have_count(0)
    screenshot(pia, "accreditation-draft")
    # The application's own page sends the provider through the same check, warnings and all.
    pia.goto(pia.url.split("/steps/")[0])
    doing = pia.get_by_role("region", name="What you can do now")
    expect(doing).to_contain_text("2 points worth a second look before you send it")
    expect(doing.get_by_role("button", name="Submit")).to_have_count(0)
    screenshot_widths(pia, "accreditation-application-submit")
    doing.get_by_role("link", name="Review and submit").click()
    expect(pia.get_by_role("heading", name="Worth a second look (2)")).to_be_visible()
    pia.get_by_role("button", name="Submit the application").click()
    expect(pia.get_by_role("status").first).to_contain_text("now submitted")

    lena = _as(open_context, "lena@example.org", page_problems)
    lena.get_by_role("link", name="Accreditation queue").first.click()
    expect(lena.get_by_role("cell", name="Northwind Learning Ltd")).to_be_visible()
    screenshot_widths(lena, "accreditation-queue")
    lena.get_by_role("link", name="Customer Success Foundations").click()
    lena.get_by_role("button", name="Start screening").click()
    expect(lena.get_by_role("status").first).to_contain_text("now screening")
    _step(lena, "Assign an assessor")
    lena.get_by_label("Assessor").select_option(label="Asa Whitaker")
    lena.get_by_role("button", name="Assign an assessor").click()
    expect(lena.get_by_role("status").first).to_contain_text("now under review")

    asa = _as(open_context, "asa@example.org", page_problems)
    asa.get_by_role("link", name="Accreditation queue").first.click()
    asa.get_by_role("link", name="Customer Success Foundations").click()
    expect(asa.get_by_role("heading", name="The file is closed to you")).to_be_visible()
    facts = asa.get_by_role("region", name="Who is applying")
    expect(facts).to_contain_text("Northwind Learning Ltd")
    expect(facts).to_contain_text("Customer Success Foundations")
    screenshot_widths(asa, "accreditation-declare")
    asa.get_by_label("No conflict of interest").check()
    asa.get_by_role("button", name="Declare interests").click()
    _step(asa, "Ask the provider")
    asa.get_by_label("Question to the provider").fill("How are trainers observed?")
    asa.get_by_label("Answer due by").fill(str(world.clock.now().date() + timedelta(days=10)))
    asa.get_by_role("button", name="Ask the provider").click()
    expect(asa.get_by_role("status").first).to_contain_text("clarification requested")

    pia.reload()
    _step(pia, "Send the answer")
    pia.get_by_label("Answer").fill("Twice a year, by a senior trainer.")
    pia.get_by_role("button", name="Send the answer").click()
    expect(pia.locator(".thread")).to_contain_text("Twice a year, by a senior trainer.")

    asa.reload()
    _step(asa, "Recommend")
    for label in (
        "Curriculum coverage of the standard",
        "Trainer qualification",
        "Assessment of learners",
        "Materials",
        "Quality assurance",
    ):
        asa.get_by_label(label, exact=True).select_option("meets")
    asa.get_by_label("Recommendation").select_option("accredit")
    asa.get_by_label("Report to the deciding lead").fill("Meets the standard throughout.")
    screenshot(asa, "accreditation-recommend")
    asa.get_by_role("button", name="Recommend").click()
    expect(asa.get_by_role("status").first).to_contain_text("now recommended")

    leo = _as(open_context, "leo@example.org", page_problems)
    leo.goto(asa.url.replace(live_server, ""))
    _step(leo, "Accredit")
    leo.get_by_label("Decision letter").first.fill("Accredited for three years.")
    leo.get_by_role("button", name="Accredit", exact=True).click()
    expect(leo.get_by_role("heading", name="What follows when you confirm")).to_be_visible()
    expect(leo.locator(".consequences")).to_contain_text("appears on the public register")
    screenshot_widths(leo, "accreditation-confirm-decision")
    leo.get_by_role("button", name="Accredit", exact=True).click()
    expect(leo.get_by_role("status").first).to_contain_text("now accredited")
    expect(leo.get_by_text("first reviewed")).to_be_visible()
    screenshot_widths(leo, "accreditation-decided")

    public = open_context().new_page()
    public.goto("/register")
    expect(public.get_by_role("cell", name="Customer Success Foundations")).to_be_visible()
    screenshot(public, "accreditation-register")
    public.get_by_role("link", name=f"CSA-AP-{world.clock.now().year}-0001").click()
    expect(public.get_by_text("Northwind Learning Ltd")).to_be_visible()
    assert page_problems.messages == []


def _save_and_go_on(page: Page) -> None:
    """Saves a step and waits for the next step's address, so the next look at the
    page sees the new step rather than the old one mid-navigation."""
    step = page.url
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(lambda url: url != step)
    page.wait_for_load_state()
