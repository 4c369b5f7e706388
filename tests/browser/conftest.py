"""Headless Chromium for the browser tests, and the app loaded in a fresh page for each test."""

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser(chromium_path) -> Browser:
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser, app) -> Page:
    """The app freshly loaded in its own browser context; fails the test on any uncaught script error."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app.url)
    page.locator("#text-prompt textarea").wait_for()
    yield page
    context.close()
    assert not errors, f"script errors in the page: {errors}"
