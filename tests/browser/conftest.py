"""A real browser: Debian's Chromium driven by Playwright (no browser download)."""
import pytest
from playwright.sync_api import sync_playwright

from samples import require_program

# Chromium runs as root on a closed network here: without these it stalls on connections it cannot make.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    chromium = require_program("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()  # a fresh, empty profile per test
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
