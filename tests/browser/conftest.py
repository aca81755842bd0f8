"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
import shutil
import weakref
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django must allow ORM
# calls from it. Only the browser tests set this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Pages opened with JavaScript disabled: axe (itself JavaScript) cannot run in them.
_NO_JS_PAGES: weakref.WeakSet[Page] = weakref.WeakSet()


def _page(browser: Browser, live_server, *, javascript: bool, width: int = 1280) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url,
        java_script_enabled=javascript,
        viewport={"width": width, "height": 900},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    if not javascript:
        _NO_JS_PAGES.add(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    context.close()
    # A CSP violation or an uncaught script error is a bug even if the flow worked.
    assert errors == [], errors


@pytest.fixture
def page(browser, live_server) -> Iterator[Page]:
    yield from _page(browser, live_server, javascript=True)


@pytest.fixture
def nojs_page(browser, live_server) -> Iterator[Page]:
    yield from _page(browser, live_server, javascript=False)


@pytest.fixture
def phone_page(browser, live_server) -> Iterator[Page]:
    yield from _page(browser, live_server, javascript=True, width=360)


_axe = Axe()


def assert_accessible(page: Page) -> None:
    """Zero axe-core violations on the page as it is now.

    For a page without JavaScript, its exact HTML is served again, at the same URL
    (so its stylesheets load and contrast is judged as shown), into a scripting page
    in which axe can run.
    """
    if page in _NO_JS_PAGES:
        html, url = page.content(), page.url
        checker = page.context.browser.new_context(viewport=page.viewport_size)
        try:
            probe = checker.new_page()
            probe.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
            probe.goto(url)
            _assert_no_violations(probe)
        finally:
            checker.close()
        return
    _assert_no_violations(page)


def _assert_no_violations(page: Page) -> None:
    results = _axe.run(page)
    violations = results.response["violations"]
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    ]
    assert violations == [], "\n".join(summary)


def tab_to(page: Page, text: str, *, limit: int = 40) -> None:
    """Press Tab until the focused element's text or label contains `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return "";
                const label = el.labels && el.labels[0] ? el.labels[0].innerText : "";
                return [el.innerText, el.value, el.getAttribute("aria-label"), label].join(" ");
            }"""
        )
        if text.lower() in (focused or "").lower():
            return
    raise AssertionError(f"Could not reach {text!r} with the Tab key")
