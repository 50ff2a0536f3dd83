"""A person signs up, lands on the candidate home page, signs out and back in: in Chromium."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import PageProblems, screenshot
from tests.conftest import STRONG_PASSWORD


def test_sign_up_sign_in_and_see_the_candidate_home(
    page: Page, page_problems: PageProblems
) -> None:
    page.goto("/")
    screenshot(page, "landing")
    page.get_by_role("link", name="Create a candidate account").click()
    expect(page.get_by_role("heading", name="Create your candidate account")).to_be_visible()
    page.get_by_label("Given name").fill("Ana")
    page.get_by_label("Family name").fill("Pereira")
    page.get_by_label("Email").fill("ana.pereira@example.org")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("Password")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    screenshot(page, "sign-up-errors")

    page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("Repeat password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Welcome, Ana")).to_be_visible()
    expect(page.get_by_role("heading", name="Your certification")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("candidate account is ready")
    screenshot(page, "candidate-home")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill("ana.pereira@example.org")
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="Welcome, Ana")).to_be_visible()
    assert page_problems.messages == []


def test_sign_in_works_by_keyboard_alone(
    page: Page, make_user, page_problems: PageProblems
) -> None:
    user = make_user(given_name="Kofi")
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="CSM Certify")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Standard")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Verify a certificate")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Accredited training")).to_be_focused()
    page.keyboard.press("Tab")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")
    ).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.wait_for_load_state()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")  # skip link: straight to the form
    expect(page.locator("#main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(STRONG_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Welcome, Kofi")).to_be_visible()
    assert page_problems.messages == []


def test_wrong_password_page_and_account_page(page: Page, make_user) -> None:
    user = make_user(given_name="Lena")
    page.goto("/sign-in")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not-the-right-one")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("email or password is not right")
    screenshot(page, "sign-in-failed")
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    screenshot(page, "account")


def test_admin_user_pages(page: Page, make_user) -> None:
    admin = make_user("admin", given_name="Ada", family_name="Admin")
    make_user("proctor", given_name="Pat", family_name="Quinn")
    page.goto("/sign-in")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Account").click()  # the header's menu
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page.get_by_role("status")).to_contain_text("2 users found")
    screenshot(page, "admin-users")
    page.get_by_role("link", name="Quinn, Pat").click()
    page.get_by_label("Item reviewer").check()
    page.get_by_role("button", name="Save roles").click()
    expect(page.get_by_role("status")).to_contain_text("Roles of Pat Quinn saved")
    expect(page.get_by_role("cell", name="user.roles_changed")).to_be_visible()
    screenshot(page, "admin-user")
