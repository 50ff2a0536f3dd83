"""The header in Chromium: a staff member's many links fit one row at 1280 px in menus,
the public header is one row on a phone, menus work by keyboard, and without JavaScript
every link is a plain link."""

from __future__ import annotations

from itertools import pairwise

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PageProblems, screenshot, sign_in_page

EVERY_STAFF_ROLE = (
    "admin",
    "exam_admin",
    "item_writer",
    "item_reviewer",
    "proctor",
    "accreditation_lead",
    "accreditation_reviewer",
)


def _rows(entries: Locator) -> int:
    """How many rows the header's top-level entries take (entries whose middles lie within
    a few pixels of each other share a row)."""
    middles = sorted(
        box["y"] + box["height"] / 2 for box in (e.bounding_box() for e in entries.all()) if box
    )
    return 1 + sum(1 for a, b in pairwise(middles) if b - a > 8)


def _entries(page: Page) -> Locator:
    return page.locator(
        ".site-header .brand, .site-header .nav-list > li:visible, .nav-toggle:visible"
    )


def test_a_staff_member_with_every_role_gets_one_row_of_menus_at_1280(
    page: Page, make_user, page_problems: PageProblems
) -> None:
    boss = make_user(*EVERY_STAFF_ROLE, given_name="Ada")
    sign_in_page(page, boss.email)
    nav = page.get_by_role("navigation", name="Main")
    assert _rows(_entries(page)) == 1
    expect(nav.get_by_role("link", name="Coverage")).to_be_hidden()

    # By keyboard: Tab to the menu, open it, Tab into its links, Escape closes it.
    items = nav.get_by_role("button", name="Items")
    items.focus()
    expect(items).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(items).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Item bank")).to_be_focused()
    screenshot(page, "header-staff-menu-open-1280")
    page.keyboard.press("Escape")
    expect(items).to_be_focused()
    expect(items).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Item bank")).to_be_hidden()

    # One menu open at a time; a click elsewhere closes it.
    items.click()
    nav.get_by_role("button", name="Exams").click()
    expect(items).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Sittings")).to_be_visible()
    page.locator("footer").click()
    expect(nav.get_by_role("link", name="Sittings")).to_be_hidden()

    nav.get_by_role("button", name="Items").click()
    nav.get_by_role("link", name="Coverage").click()
    assert page.url.endswith("/item-bank/coverage")
    expect(nav.get_by_role("button", name="Items")).to_have_class(
        "nav-menu-button nav-menu-current"
    )
    # On a phone the same header is one row: a Menu button, with the menus inside it.
    page.set_viewport_size({"width": 390, "height": 844})
    assert _rows(_entries(page)) == 1
    nav.get_by_role("button", name="Menu").click()
    nav.get_by_role("button", name="Exams").click()
    expect(nav.get_by_role("link", name="Proctoring")).to_be_visible()
    screenshot(page, "header-staff-menu-open-390")
    assert page_problems.messages == []


def test_the_public_header_is_one_row_on_a_phone(
    page: Page, make_user, page_problems: PageProblems
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    assert _rows(_entries(page)) == 1
    toggle = page.get_by_role("button", name="Menu")
    expect(page.get_by_role("link", name="Verify a certificate")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    screenshot(page, "header-public-phone-open-390")
    page.get_by_role("link", name="Verify a certificate").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verify")
    # The candidate's header on a phone, with its menu open, by keyboard.
    candidate = make_user("candidate", given_name="Lea")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_page(page, candidate.email)
    page.set_viewport_size({"width": 390, "height": 844})
    assert _rows(_entries(page)) == 1
    toggle = page.get_by_role("button", name="Menu")
    toggle.focus()
    page.keyboard.press("Enter")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My exams")).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("button", name="Public pages")).to_be_focused()
    page.keyboard.press("Escape")
    expect(toggle).to_be_focused()
    expect(nav.get_by_role("link", name="My exams")).to_be_hidden()
    assert page_problems.messages == []


def test_without_javascript_every_header_link_is_a_plain_link(open_context, make_user) -> None:
    boss = make_user(*EVERY_STAFF_ROLE, given_name="Ada")
    page = open_context(java_script_enabled=False).new_page()
    sign_in_page(page, boss.email)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("button", name="Items")).to_be_hidden()
    for name in ("Item bank", "Review queue", "Coverage", "Sittings", "Proctoring", "Users"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    nav.get_by_role("link", name="Coverage").click()
    assert page.url.endswith("/item-bank/coverage")
