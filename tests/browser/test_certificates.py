"""An employer checks a certificate in Chromium: by code and name, and by a forged link."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from certificates.models import Certificate
from core.db import get_db
from tests.browser.conftest import PageProblems, screenshot
from tests.exam.fixtures import ExamWorld
from tests.exam.test_grading import _answer, _sit


def test_an_employer_verifies_a_certificate(
    page: Page, app: Flask, world: ExamWorld, page_problems: PageProblems
) -> None:
    attempt = _sit(world)
    _answer(world, app, attempt, lambda code: True)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    with get_db(app).read_sessions() as session:
        certificate = session.scalars(select(Certificate)).one()
    page.goto("/")
    page.get_by_role("link", name="Verify a certificate").click()
    page.get_by_label("Certificate code").fill(certificate.code.lower())
    page.get_by_label("Holder's family name").fill(certificate.holder_family_name.upper())
    screenshot(page, "verify-lookup")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Valid certificate")).to_be_visible()
    screenshot(page, "verify-valid")
    page.goto("/verify/not-a-real-token")
    expect(page.get_by_role("heading", name="This link is not genuine")).to_be_visible()
    screenshot(page, "verify-not-genuine")
    assert page_problems.messages == []
