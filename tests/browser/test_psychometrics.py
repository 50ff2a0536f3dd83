"""The statistics page's Rasch calibration in Chromium: run from the page, the Wright map
and its table, no serious accessibility finding, at 1280 and 390 px; the exposure and
drift page reached from it, its alert first."""

from __future__ import annotations

import numpy as np
import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core import clock
from core.db import get_db
from exam.models import Attempt
from exam.psychometrics.models import CandidateBackground
from item_bank.models import Item, ItemVersion
from tests.browser.conftest import (
    BLOCKING,
    SCREENSHOT_DIR,
    ContextFactory,
    axe_violations,
    screenshot,
    screenshot_widths,
    sign_in_page,
)
from tests.browser.test_accessibility import VIEWS
from tests.exam.fixtures import ExamWorld, answer_all, sit
from tests.exam.simulated import approved_versions, seed_attempts, simulated_bank
from tests.exam.test_drift import two_months


def _simulated(app: Flask) -> None:
    """300 graded attempts on forms of 60 from 80 items (so each group has over 100 on
    an item); half the candidates said English is not their first language, and the
    first item is 2 logits harder for them."""
    rng = np.random.default_rng(3)
    with app.app_context(), get_db(app).write_sessions() as session:
        versions = [v[0] for v in approved_versions(session)][:80]
        truth = dict(zip(versions, rng.normal(0, 1, len(versions)).tolist(), strict=True))
        groups = [n % 2 for n in range(300)]
        attempts = seed_attempts(
            session,
            abilities=rng.normal(0.4, 1.0, 300).tolist(),
            difficulty=truth,
            form_length=60,
            rng=rng,
            shift={versions[0]: (1, 2.0)},
            groups=groups,
        )
        candidates = dict(
            session.execute(
                select(Attempt.id, Attempt.candidate_id).where(Attempt.id.in_(attempts))
            ).all()
        )
        session.add_all(
            CandidateBackground(
                user_id=candidates[a],
                first_language="other" if g else "english",
                region="",
                consented_at=clock.now(),
            )
            for a, g in zip(attempts, groups, strict=True)
        )
        session.commit()


@pytest.mark.browser
@pytest.mark.parametrize("view", ["1280", "390"])
def test_calibrating_from_the_statistics_page_draws_the_wright_map(
    app: Flask, world: ExamWorld, open_context: ContextFactory, view: str
) -> None:
    _simulated(app)
    page = open_context(**VIEWS[view]).new_page()
    sign_in_page(page, world.people["admin"]["user"].email)
    page.goto("/staff/statistics")
    calibration = page.get_by_role("region", name="Rasch calibration", exact=True)
    expect(calibration.get_by_text("No calibration yet.")).to_be_visible()
    calibration.get_by_role("button", name="Calibrate now").click()
    expect(page.get_by_role("status")).to_contain_text("Calibrated 80 items from 300 attempts")
    wright = page.get_by_role("img", name="Wright map")
    expect(wright).to_be_visible()
    expect(calibration.get_by_role("button", name="Calibrate again")).to_be_visible()
    # The page itself never scrolls sideways: on a phone the map scrolls in its frame.
    width = 1280 if view == "1280" else 390
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    table = calibration.locator("details table")
    expect(table).to_be_hidden()
    calibration.get_by_text("The map as a table").click()
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader", name="Persons")).to_be_visible()
    expect(table.get_by_role("row")).not_to_have_count(0)
    expect(calibration.get_by_role("heading", name="Calibrated items")).to_be_visible()
    fairness = page.get_by_role("region", name="Differential item functioning", exact=True)
    fairness.get_by_label("Group by").select_option(label="First language")
    fairness.get_by_role("button", name="Analyse").click()
    fairness = page.get_by_role("region", name="Differential item functioning", exact=True)
    expect(fairness.get_by_role("heading", name="Another language against English")).to_be_visible()
    expect(fairness.get_by_text("English 150, Another language 150")).to_be_visible()
    expect(fairness.get_by_role("row").nth(1)).to_contain_text("C")
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, blocking
    screenshot(page, f"statistics-wright-map-{view}")
    page.locator("#calibration-title").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('calibration-title').scrollIntoView()")
    page.screenshot(path=str(SCREENSHOT_DIR / f"statistics-calibration-{view}.png"))
    wright.screenshot(path=str(SCREENSHOT_DIR / f"statistics-wright-map-only-{view}.png"))
    fairness.screenshot(path=str(SCREENSHOT_DIR / f"statistics-dif-{view}.png"))
    spread = page.get_by_role("heading", name="How hard the drawn forms were")
    spread.scroll_into_view_if_needed()
    page.evaluate("document.getElementById('forms-title').scrollIntoView()")
    page.screenshot(path=str(SCREENSHOT_DIR / f"statistics-forms-{view}.png"))


@pytest.mark.browser
@pytest.mark.parametrize("view", ["1280", "390"])
def test_a_candidate_gives_and_deletes_the_optional_background(
    app: Flask, world: ExamWorld, open_context: ContextFactory, view: str
) -> None:
    page = open_context(**VIEWS[view]).new_page()
    sign_in_page(page, world.people["ana"]["user"].email)
    page.goto("/exams/about-you")
    expect(page.get_by_role("heading", name="About you (optional)")).to_be_visible()
    page.get_by_label("Your first language").select_option(label="Another language")
    page.get_by_label("Where you live").select_option(label="Europe")
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to agree")
    page.get_by_label("I agree that the association keeps these answers").check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("status")).to_contain_text("your answers are saved")
    expect(page.get_by_text("first language Another language, region Europe")).to_be_visible()
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, blocking
    screenshot(page, f"about-you-{view}")
    page.get_by_role("button", name="Delete my answers").click()
    expect(page.get_by_role("status")).to_contain_text("Your answers are deleted.")
    expect(page.get_by_role("button", name="Delete my answers")).to_have_count(0)


@pytest.mark.browser
def test_the_drift_page_from_the_statistics_page_shows_the_leak_first(
    app: Flask, world: ExamWorld, page: Page
) -> None:
    two_months(app, world, gap_days=32)  # the browser's clock is the machine's: next month
    sign_in_page(page, world.people["admin"]["user"].email)
    page.goto("/staff/statistics")
    page.get_by_role("link", name="Exposure and drift").click()
    expect(page.get_by_role("heading", name="Exposure and drift: first-level")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("2 periods")
    expect(page.get_by_role("status")).to_contain_text("1 alert.")
    alerts = page.get_by_role("region", name="Alerts")
    expect(alerts.get_by_role("row").nth(1)).to_contain_text("markedly easier: possible leak")
    items = page.get_by_role("region", name="Items by period")
    expect(items.get_by_role("columnheader")).to_have_count(6)  # item, 2 periods, 3 more
    expect(items.get_by_role("img", name="Exposure per period").first).to_be_visible()
    screenshot_widths(page, "statistics-drift")
    page.get_by_label("Periods", exact=True).select_option(label="Last days against before")
    page.get_by_label("Last days (recent)").fill("10")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status")).to_contain_text("last 10 days: 81 forms); 1 alert.")


@pytest.mark.browser
def test_equal_forms_and_a_scaled_score_set_on_the_blueprint_show_on_the_pages(
    app: Flask, world: ExamWorld, open_context: ContextFactory
) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        simulated_bank(session, persons=300, seed=4)
    page = open_context(**VIEWS["1280"]).new_page()
    sign_in_page(page, world.people["admin"]["user"].email)
    page.goto("/item-bank/blueprints/first-level")
    page.get_by_label("Give every form the same difficulty").check()
    page.get_by_label("Allowed difference at the pass mark, in items").fill("0.5")
    page.get_by_label("Report a scaled score").check()
    page.get_by_label("Why this change").fill("Equal forms and a reporting scale")
    page.get_by_role("button", name="Save as version 2").click()
    expect(page.get_by_role("status")).to_contain_text("now at version 2")
    rules = page.get_by_role("region", name="Current rules")
    expect(rules).to_contain_text("every form within 0.5 items of the pass mark")
    expect(rules).to_contain_text("a scaled score from 100 to 900, pass point 500")
    screenshot_widths(page, "blueprint-equal-forms-scale")

    with app.app_context(), get_db(app).write_sessions() as session:
        simulated_bank(session, persons=100, seed=6, prefix="later")
    page.goto("/staff/statistics")
    calibration = page.get_by_role("region", name="Rasch calibration", exact=True)
    calibration.get_by_role("button", name="Calibrate now").click()
    table = page.get_by_role("table", name="before and after")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("row").nth(2)).to_contain_text("within 0.5 items")
    table.scroll_into_view_if_needed()
    screenshot_widths(page, "statistics-forms-by-version")
    table.screenshot(path=str(SCREENSHOT_DIR / "statistics-forms-by-version-table.png"))

    attempt = sit(world)
    answer_all(world, app, attempt, lambda code: not code.startswith("CU.SK.S"))
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    candidate = open_context(**VIEWS["1280"]).new_page()
    sign_in_page(candidate, world.people["ana"]["user"].email)
    candidate.goto(f"/exams/attempts/{attempt['id']}/result")
    expect(candidate.locator(".lead")).to_contain_text("Scaled score")
    expect(candidate.get_by_text("allows for how hard your questions were")).to_be_visible()
    screenshot_widths(candidate, "result-scaled-score")


@pytest.mark.browser
def test_an_exam_admin_puts_items_on_pretest_and_promotes_one(
    app: Flask, world: ExamWorld, open_context: ContextFactory
) -> None:
    with get_db(app).read_sessions() as session:
        refs = list(
            session.scalars(
                select(Item.ref)
                .join(ItemVersion, ItemVersion.item_id == Item.id)
                .where(ItemVersion.status == "approved", ItemVersion.stimulus_version_id.is_(None))
                .order_by(Item.ref)
                .limit(2)
            )
        )
    page = open_context(**VIEWS["1280"]).new_page()
    sign_in_page(page, world.people["admin"]["user"].email)
    page.goto("/staff/statistics")
    page.get_by_role("link", name="Pretest items").click()
    expect(page.get_by_role("heading", name="Pretest items: first-level")).to_be_visible()
    page.get_by_label("Item reference").fill("NOT-A-REF")
    page.get_by_role("button", name="Put on pretest").click()
    expect(page.get_by_text("No item with this reference.")).to_be_visible()
    for ref in refs:
        page.get_by_label("Item reference").fill(ref)
        page.get_by_role("button", name="Put on pretest").click()
        expect(page.get_by_role("status")).to_contain_text("is on pretest")
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)
    screenshot_widths(page, "pretest-items")
    row = table.get_by_role("row").filter(has_text=refs[0])
    row.get_by_label("Why").fill("p 0.64, point-biserial 0.33 over 240 candidates")
    row.get_by_role("button", name="Promote…").click()
    expect(page.get_by_role("heading", name="What follows when you confirm")).to_be_visible()
    screenshot_widths(page, "pretest-confirm-promote")
    page.get_by_role("button", name=f"Promote {refs[0]}").click()
    expect(page.get_by_role("status")).to_contain_text("Promoted")
    expect(table.get_by_role("row").filter(has_text=refs[0])).to_contain_text("promoted: scored")
