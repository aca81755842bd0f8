"""Issue 12's new pages in a real browser: Constitutional AI's critique-and-revise step
and the module's closing section, with the keyboard, without JavaScript and on a 360 px
phone, each with zero axe violations (at 1280 px and at 360 px)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from courseware.models import SectionProgress
from tests.browser.conftest import assert_accessible, tab_to

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/courses/language-models/post-training"


def log_in(page: Page, live_server, user) -> Page:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    return page


def fits_the_screen(page: Page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


# -- critique and revise -------------------------------------------------------------------


def test_step_through_a_critique_round_with_the_keyboard(page, live_server, student, content):
    log_in(page, live_server, student)
    page.goto(f"{BASE}/critique/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Critique and revise")
    assert_accessible(page)

    tab_to(page, "Avoid harm")
    page.keyboard.press("ArrowDown")  # radios: the arrow moves to the next principle
    expect(page.get_by_role("radio", name=re.compile("Be honest"))).to_be_checked()
    tab_to(page, "Critique and revise")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/critique/\?principle=honest$"))
    heading = page.locator("#round-heading")
    expect(heading).to_have_text("One round with “Be honest about uncertainty”")
    expect(heading).to_be_focused()  # focus follows the swapped-in round
    expect(page.locator("#critique-result .sample-output")).to_have_count(1)
    expect(page.locator("#critique-result .provenance")).to_contain_text("Written for this course")
    assert_accessible(page)

    tab_to(page, "Next: the critique")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"principle=honest&step=2$"))
    expect(page.locator("#step-2")).to_be_focused()
    tab_to(page, "Next: the revision")
    page.keyboard.press("Enter")
    expect(page.locator("#step-3")).to_be_focused()
    expect(page.locator("#critique-result .sample-output")).to_have_count(3)
    expect(page.get_by_role("heading", name="What happens to the revision")).to_be_visible()
    assert_accessible(page)

    page.go_back()  # the address names the step: history walks back through the round
    expect(page).to_have_url(re.compile(r"step=2$"))
    expect(page.locator("#critique-result .sample-output")).to_have_count(2)


def test_critique_round_works_without_javascript(nojs_page, live_server, student, content):
    page = log_in(nojs_page, live_server, student)
    page.goto(f"{BASE}/critique/")
    page.get_by_role("radio", name=re.compile("Be brief")).check()
    page.get_by_role("button", name="Critique and revise").click()
    expect(page).to_have_url(re.compile(r"\?principle=brief$"))
    expect(page.locator("#round-heading")).to_contain_text("Be brief")
    page.get_by_role("link", name="Next: the critique").click()
    page.get_by_role("link", name="Next: the revision").click()
    expect(page).to_have_url(re.compile(r"step=3$"))
    expect(page.locator("#critique-result")).to_contain_text("shorter but no safer")
    assert_accessible(page)

    page.goto(f"{BASE}/critique/?principle=nonsense")
    expect(page.get_by_role("alert")).to_contain_text("no example here")
    page.get_by_role("radio", name=re.compile("Be kind")).check()
    page.get_by_role("button", name="Critique and revise").click()
    expect(page.locator("#round-heading")).to_contain_text("Be kind")


def test_critique_round_fits_a_phone(phone_page, live_server, student, content):
    page = log_in(phone_page, live_server, student)
    page.goto(f"{BASE}/critique/?principle=harmless&step=3")
    expect(page.locator("#step-3")).to_be_visible()
    fits_the_screen(page)
    assert_accessible(page)
    page.get_by_role("radio", name=re.compile("Be kind")).check()
    page.get_by_role("button", name="Critique and revise").click()
    expect(page.locator("#round-heading")).to_be_focused()
    fits_the_screen(page)
    assert_accessible(page)


# -- the closing section ---------------------------------------------------------------------


def tab_to_focused(page: Page, selector: str, *, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Could not reach {selector} with the Tab key")


def test_read_the_closing_section_with_the_keyboard(page, live_server, student, content):
    log_in(page, live_server, student)
    page.goto(f"{BASE}/closing/")
    expect(page.get_by_role("heading", level=1)).to_have_text("What it all adds up to")
    table = page.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(7)
    expect(table).to_contain_text("about 12× the SFT step")
    assert_accessible(page)

    tab_to_focused(page, ".table-scroll")  # the table's region takes focus, to scroll it
    tab_to(page, "Pre-training")  # then each stage links to its walkthrough page
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/pipeline/stage/pre-training/$"))
    page.go_back()

    tab_to(page, "Done — back to the module", limit=120)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/post-training/$"))
    assert SectionProgress.objects.get(user=student, section__slug="closing").done_at


def test_closing_section_works_without_javascript(nojs_page, live_server, student, content):
    page = log_in(nojs_page, live_server, student)
    page.goto(f"{BASE}/quiz/")
    page.get_by_role("link", name=re.compile("Skip to What it all adds up to")).click()
    expect(page).to_have_url(re.compile(r"/closing/$"))
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(7)
    expect(
        page.get_by_role("heading", name="Why an assistant is a layered artefact")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Done — back to the module").click()
    expect(page).to_have_url(re.compile(r"/post-training/$"))


def test_closing_table_scrolls_inside_its_region_on_a_phone(
    phone_page, live_server, student, content
):
    page = log_in(phone_page, live_server, student)
    page.goto(f"{BASE}/closing/")
    fits_the_screen(page)  # the page does not scroll sideways; the table's region does
    region = page.locator(".table-scroll")
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    region.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # Polled from the test: wait_for_function evaluates a string in the page, which the
    # Content Security Policy (no 'unsafe-eval') refuses.
    for _ in range(50):
        if region.evaluate("el => el.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert region.evaluate("el => el.scrollLeft") > 0
    assert_accessible(page)
