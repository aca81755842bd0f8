"""Kept pages in a real browser: a page served again from the cache is the same working
page (its forms post with the browser's own CSRF token, keyboard and axe as rendered),
and a learner's pick, a classmate's action or an admin's edit shows on the next load."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import expect

from courseware.models import TeachingText
from labeling import services as labeling_services
from labeling.models import Pick
from tests.browser.conftest import assert_accessible, tab_to
from tests.browser.test_teaching import BASE, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_kept_page_works_and_follows_writes(page, live_server, student, content):
    labeling_services.session_start(user=student, rng=random.Random(1))
    log_in(page, live_server, student)
    url = f"{live_server.url}{BASE}/label/"
    # The first load brings the CSRF cookie, the second renders and keeps the page, the
    # third is served from the cache.
    assert page.goto(url).headers["x-page-cache"] == "bypass"
    assert page.reload().headers["x-page-cache"] == "miss"
    assert page.reload().headers["x-page-cache"] == "hit"
    expect(page.get_by_role("heading", name="Pair 1 of 6")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Pairs picked")).to_have_attribute("value", "0")
    assert_accessible(page)

    # Pick with the keyboard on the served page: its htmx form and CSRF token work.
    expect(page.locator("html")).not_to_have_attribute("data-labeling-busy", "")
    page.keyboard.press("1")
    expect(page.get_by_role("heading", name="Pair 2 of 6")).to_be_focused()
    assert Pick.objects.filter(session__user=student).count() == 1
    # The pick made the kept page stale: the next load renders it again, with the pick.
    assert page.reload().headers["x-page-cache"] == "miss"
    expect(page.get_by_role("progressbar", name="Pairs picked")).to_have_attribute("value", "1")


def test_an_admin_edit_reaches_a_learner_on_the_next_load(page, live_server, student, content):
    log_in(page, live_server, student)
    url = f"{live_server.url}{BASE}/pre-training/"
    page.goto(url)
    page.reload()
    assert page.reload().headers["x-page-cache"] == "hit"
    text = TeachingText.objects.filter(key__startswith="pretraining").first()
    text.body = "An admin rewrote this paragraph a moment ago."
    text.save()
    page.reload()
    expect(page.get_by_text("An admin rewrote this paragraph a moment ago.")).to_be_visible()
    tab_to(page, "Next")
    assert_accessible(page)
