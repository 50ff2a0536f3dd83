"""An employer checks a certificate in Chromium: by code and name, by a forged link, and by\nthe QR link before and after staff revoke it."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from certificates.codes import file_stem
from certificates.models import Certificate
from tests.browser.conftest import (
    ContextFactory,
    PageProblems,
    screenshot,
    screenshot_widths,
    sign_in_page,
)
from tests.certificates.fixtures import all_certificates, passed_attempt
from tests.exam.fixtures import ExamWorld


def _passed_certificate(app: Flask, world: ExamWorld) -> Certificate:
    passed_attempt(app, world)
    [certificate] = all_certificates(app)
    return certificate


def test_an_employer_verifies_a_certificate(
    page: Page, app: Flask, world: ExamWorld, page_problems: PageProblems
) -> None:
    certificate = _passed_certificate(app, world)
    page.goto("/")
    page.get_by_role("link", name="Verify a certificate").click()
    page.get_by_label("Certificate code").fill(certificate.code.lower())
    page.get_by_label("Holder's family name").fill(certificate.holder_family_name.upper())
    screenshot(page, "verify-lookup")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Valid certificate")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"Checked just now, \w{3} \d+ \w{3} \d{4}, \d\d:\d\d UTC"))
    ).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("CSM Competency Standard"))).to_be_visible()
    expect(page.get_by_text("genuine and in force")).to_be_visible()
    area = page.get_by_role("link", name="The CSM and the Customer: Basic Knowledge")
    expect(area).to_have_attribute("href", re.compile(r"/framework\?code=csa-first-level#CU\.KN$"))
    screenshot(page, "verify-valid")
    page.goto("/verify/not-a-real-token")
    expect(page.get_by_role("heading", name="This link is not genuine")).to_be_visible()
    screenshot(page, "verify-not-genuine")
    assert page_problems.messages == []


def test_an_employer_follows_the_qr_link_and_sees_a_revocation(
    open_context: ContextFactory,
    live_server: str,
    app: Flask,
    world: ExamWorld,
    page_problems: PageProblems,
) -> None:
    certificate = _passed_certificate(app, world)

    holder = open_context(permissions=["clipboard-read", "clipboard-write"])
    ana = holder.new_page()
    ana.on("pageerror", page_problems.on_error)
    sign_in_page(ana, world.people["ana"]["user"].email)
    ana.get_by_role("link", name="My certificates").first.click()
    screenshot(ana, "certificates-mine")
    ana.get_by_role("link", name=re.compile("Share, download or add to LinkedIn")).click()
    qr = ana.get_by_role("img", name="QR code of the verification link")
    expect(qr).to_be_visible()
    expect(ana.get_by_role("img", name=re.compile("CSM Competency Standard"))).to_be_visible()
    ana.get_by_role("button", name="Copy the link").click()
    expect(ana.get_by_role("status").filter(has_text="Link copied.")).to_be_visible()
    copied = ana.evaluate("navigator.clipboard.readText()")
    with ana.expect_download() as download:
        ana.get_by_role("link", name=re.compile("Badge image with the credential inside")).click()
    assert download.value.suggested_filename == f"{file_stem(certificate.code)}-badge.png"
    screenshot(ana, "certificate-holder")
    # What the QR code holds is the link an employer's phone opens.
    qr_link = ana.locator(".share-link a").get_attribute("href") or ""
    assert qr_link.startswith(f"{live_server}/verify/") and copied == qr_link

    employer = open_context(base_url=None, viewport={"width": 390, "height": 844})
    phone = employer.new_page()
    phone.on("pageerror", page_problems.on_error)
    phone.goto(qr_link)
    expect(phone.get_by_role("heading", name="Valid certificate")).to_be_visible()
    screenshot(phone, "verify-qr-valid-phone")

    staff = open_context()
    officer = staff.new_page()
    officer.on("pageerror", page_problems.on_error)
    sign_in_page(officer, world.people["admin"]["user"].email)
    officer.get_by_role("link", name="Certificates", exact=True).first.click()
    officer.get_by_label("Code or holder's name").fill(certificate.code)
    officer.get_by_role("button", name="Search").click()
    screenshot(officer, "certificates-staff-list")
    officer.get_by_role("link", name=certificate.code).click()
    officer.get_by_label("Reason").select_option("misconduct")
    officer.locator("#revoke-note").fill("Another person sat the exam.")
    screenshot(officer, "certificate-staff")
    officer.get_by_role("button", name="Revoke certificate").click()
    expect(officer.get_by_role("heading", name="What follows when you confirm")).to_be_visible()
    expect(officer.locator(".consequences")).to_contain_text("revoked: misconduct")
    screenshot_widths(officer, "certificate-confirm-revoke")
    phone.reload()
    expect(phone.get_by_role("heading", name="Revoked certificate")).to_have_count(0)
    officer.get_by_role("button", name="Revoke the certificate").click()
    expect(officer.get_by_role("status").first).to_contain_text("Certificate revoked")
    expect(officer.get_by_role("cell", name="certificate.revoked")).to_be_visible()

    phone.reload()
    expect(phone.get_by_role("heading", name="Revoked certificate")).to_be_visible()
    expect(phone.get_by_text("Misconduct")).to_be_visible()
    screenshot(phone, "verify-qr-revoked-phone")

    # Reinstating, too, shows what follows before it changes anything.
    officer.locator("#decision-note").fill("The appeal panel found the identity check sound.")
    officer.get_by_role("button", name="Reinstate certificate").click()
    expect(officer.get_by_role("heading", name="What follows when you confirm")).to_be_visible()
    expect(officer.locator(".consequences")).to_contain_text("no longer told it is revoked")
    screenshot_widths(officer, "certificate-confirm-reinstate")
    phone.reload()
    expect(phone.get_by_role("heading", name="Revoked certificate")).to_be_visible()
    officer.get_by_role("button", name="Reinstate the certificate").click()
    expect(officer.get_by_role("status").first).to_be_visible()
    phone.reload()
    expect(phone.get_by_role("heading", name="Valid certificate")).to_be_visible()
    assert page_problems.messages == []
