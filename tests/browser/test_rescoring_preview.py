"""The rescoring preview and result in a browser when an outcome flips: the certificate
each flip touches, at 1280 and 390 px."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageProblems, screenshot_widths, sign_in_page
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture
from tests.exam.test_rescoring import _one_short_of_the_cut, scoring_form


def test_a_flip_to_pass_previews_a_new_certificate_and_the_result_names_its_code(
    page: Page, app: Flask, world: ExamWorld, page_problems: PageProblems
) -> None:
    _attempt, item_id, chosen = _one_short_of_the_cut(app, world)
    _client, fields = scoring_form(app, world, item_id, chosen, "Two options are defensible.")
    sign_in_page(page, world.people["admin"]["user"].email)
    page.goto(f"/staff/scoring?ref={fields['ref']}")
    page.get_by_label("Decision").select_option("correct_key")
    page.get_by_label("Corrected key").fill(chosen)
    page.get_by_label("Reason").fill(fields["reason"])
    page.get_by_role("button", name="Preview the rescoring").click()
    table = page.get_by_role("table", name="Outcomes that change")
    expect(table).to_contain_text("issued a new one (its code is drawn when you confirm)")
    expect(page.locator(".certificate-effects")).to_contain_text("1 certificate issued")
    screenshot_widths(page, "staff-scoring-confirm-flip")
    page.get_by_role("button", name="Rescore 1 attempt").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("1 attempt rescored; 1 outcome changed")
    expect(status).to_contain_text("certificate: issued CSM")
    screenshot_widths(page, "staff-scoring-done-flip")
    assert page_problems.messages == []
