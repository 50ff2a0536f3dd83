"""A real Chromium (Debian's, through Playwright) against the app served on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)
from werkzeug.serving import make_server

from core import clock as core_clock
from tests.conftest import STRONG_PASSWORD, MovableClock

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / ".tmp" / "screenshots")
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def clock() -> Iterator[MovableClock]:
    """Browser tests run on a clock that starts at the machine's time and ticks: Chromium
    judges cookie expiry and ``Date`` by the machine's clock, so the app must agree with
    it. Tests still move it with ``advance``."""
    ticking = MovableClock(datetime.now(UTC).replace(microsecond=0), ticking=True)
    core_clock.set_source(ticking.now)
    yield ticking
    core_clock.set_source(None)


@pytest.fixture
def live_server(app: Flask, clock: MovableClock) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Request threads are joined when the server closes, so none still holds a database
    # connection when the test's app disposes of its engine.
    server.daemon_threads = False
    server.block_on_close = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = url  # links, QR codes and credentials point here
    yield url
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


class PageProblems:
    """Console errors and uncaught exceptions seen by a page (CSP violations land here)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def on_console(self, message: ConsoleMessage) -> None:
        # A 4xx page answering a bad form is expected; failed sub-resources are caught below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.messages.append(message.text)

    def on_response(self, response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            self.messages.append(f"{response.status} for {response.url}")

    def on_error(self, error: Exception) -> None:
        self.messages.append(str(error))


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Browser, live_server: str, page_problems: PageProblems) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    new_page = context.new_page()
    new_page.on("console", page_problems.on_console)
    new_page.on("pageerror", page_problems.on_error)
    new_page.on("response", page_problems.on_response)
    new_page.set_default_timeout(10_000)
    yield new_page
    context.close()


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def open_context(browser: Browser, live_server: str) -> Iterator[ContextFactory]:
    """Browser contexts for a test's several people, all closed before the server stops,
    so no page is still polling it."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        settings: dict[str, Any] = {
            "base_url": live_server,
            "viewport": {"width": 1280, "height": 900},
        }
        settings.update(options)
        if settings["base_url"] is None:  # a visitor from elsewhere (a phone scanning a QR)
            del settings["base_url"]
        context = browser.new_context(**settings)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is (pinned in tests/browser/axe)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))"
        ".slice(0, 5)}))"
    )
    return found


def screenshot_widths(page: Page, name: str) -> None:
    """The page at 1280 px as ``name`` and at 390 px as ``name-390``, each checked by
    axe-core for serious or critical violations (a page only a form's post reaches is
    not in the accessibility test's list); the window back to 1280 px after."""
    for width, height, suffix in ((1280, 900, ""), (390, 844, "-390")):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"{name}{suffix}")
        blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
        assert not blocking, (name, width, blocking)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in_page(page: Page, email: str) -> None:
    """Sign in through the form, as a person would, and wait for the home page."""
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
