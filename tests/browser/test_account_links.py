"""Forgotten passwords and invitations, walked in Chromium from the email's link."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.db import get_db
from core.mail import OutboxMessage
from tests.browser.conftest import PageProblems, screenshot_widths, sign_in_page

NEW_PASSWORD = "amber-meadow-compass-77"


def _emailed_path(app: Flask, recipient: str, kind: str) -> str:
    """The path of the newest link emailed to ``recipient``, as its reader would follow it."""
    with get_db(app).read_sessions() as session:
        body = session.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert body, f"no email to {recipient}"
    match = re.search(rf"https?://[^/\s]+(/{kind}/\S+)", body)
    assert match, body
    return match.group(1)


def test_forgot_password_to_signing_in_with_the_new_one(
    app: Flask, page: Page, make_user, page_problems: PageProblems
) -> None:
    user = make_user(given_name="Lin", email="lin.chen@example.org")
    page.goto("/sign-in")
    screenshot_widths(page, "sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    screenshot_widths(page, "forgot-password")
    page.get_by_label("Email").fill(user.email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("If an account uses lin.chen@example.org")
    screenshot_widths(page, "forgot-password-sent")

    page.goto(_emailed_path(app, user.email, "reset-password"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Repeat new password").fill("short")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_label("New password", exact=True)).to_have_attribute("aria-invalid", "true")
    screenshot_widths(page, "reset-password-errors")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your new password is set")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Lin")).to_be_visible()

    page.goto(_emailed_path(app, user.email, "reset-password"))
    expect(page.get_by_role("heading", name="Link no longer works")).to_be_visible()
    screenshot_widths(page, "link-unusable")
    assert page_problems.messages == []


def test_an_admin_invites_a_proctor_who_sets_a_password_and_signs_in(
    app: Flask, page: Page, make_user, page_problems: PageProblems, open_context
) -> None:
    admin = make_user("admin", given_name="Ada")
    sign_in_page(page, admin.email)
    page.goto("/admin/users")
    page.get_by_role("link", name="Invite a person").click()
    expect(page.get_by_role("heading", name="Invitations", exact=True)).to_be_visible()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("Given name")
    page.get_by_label("Given name").fill("Tomas")
    page.get_by_label("Family name").fill("Novak")
    page.get_by_label("Email").fill("tomas.novak@example.org")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#roles-error")).to_contain_text("Choose at least one role.")
    page.get_by_label("Proctor").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Tomas Novak is invited")
    row = page.get_by_role("row", name=re.compile("tomas.novak@example.org"))
    expect(row).to_contain_text("Proctor")
    screenshot_widths(page, "admin-invitations")

    visitor = open_context().new_page()
    visitor.goto(_emailed_path(app, "tomas.novak@example.org", "invitation"))
    expect(visitor.get_by_role("heading", name="Welcome, Tomas")).to_be_visible()
    screenshot_widths(visitor, "accept-invitation")
    visitor.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    visitor.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    visitor.get_by_role("button", name="Create my account").click()
    expect(visitor.get_by_role("status")).to_contain_text("Your account is ready")
    visitor.goto("/proctor")
    expect(visitor.get_by_role("heading", level=1)).to_be_visible()
    assert visitor.url.endswith("/proctor")

    page.reload()
    expect(page.get_by_text("No invitations are waiting.")).to_be_visible()
    # A second invitation, withdrawn: its link then says so.
    page.get_by_label("Given name").fill("Rui")
    page.get_by_label("Family name").fill("Costa")
    page.get_by_label("Email").fill("rui.costa@example.org")
    page.get_by_label("Item reviewer").check()
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_role("button", name="Withdraw the invitation to Rui Costa").click()
    expect(page.get_by_role("status")).to_contain_text("withdrawn")
    visitor.goto(_emailed_path(app, "rui.costa@example.org", "invitation"))
    expect(visitor.get_by_role("heading", name="Link no longer works")).to_be_visible()
    assert page_problems.messages == []
