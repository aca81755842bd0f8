"""The reward profile's prior control: by keyboard with htmx (only the figures swap, the
radio keeps focus), without JavaScript (a plain GET form), at 360 px, axe-clean."""

from __future__ import annotations

import random

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from labeling import services
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

PROFILE = "/courses/language-models/post-training/reward-profile/"


@pytest.fixture
def labeled(content, student):
    session, _ = services.session_start(user=student, rng=random.Random(5))
    for shown in session.shown.all():
        services.pick_record(session=session, pair=shown.pair_id, side="left")
    services.session_finish(session=session)
    return student


def log_in(page: Page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_move_the_prior_with_the_keyboard_on_a_phone(phone_page, live_server, labeled):
    page = phone_page
    log_in(page, live_server, labeled)
    page.goto(PROFILE)
    expect(page.locator("#fit-heading")).to_have_text("Your weights at λ = 0.1")
    assert_accessible(page)
    default = page.get_by_role("radio", name="λ = 0.1 (default)")
    default.focus()
    page.keyboard.press("ArrowRight")  # the next, stronger step: 0.3
    expect(page.locator("#fit-heading")).to_have_text("Your weights at λ = 0.3")
    expect(page.get_by_role("radio", name="λ = 0.3")).to_be_focused()
    expect(page).to_have_url(f"{live_server.url}{PROFILE}?lam=0.3")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)


def test_move_the_prior_without_javascript(nojs_page, live_server, labeled):
    page = nojs_page
    log_in(page, live_server, labeled)
    page.goto(PROFILE)
    page.get_by_role("radio", name="λ = 3").check()
    page.get_by_role("button", name="Refit with this prior").click()
    expect(page).to_have_url(f"{live_server.url}{PROFILE}?lam=3")
    expect(page.locator("#fit-heading")).to_have_text("Your weights at λ = 3")
    expect(page.get_by_role("radio", name="λ = 3")).to_be_checked()
    assert_accessible(page)
