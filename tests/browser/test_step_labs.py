"""The optimiser and RLVR labs in a real browser: stepping with the keyboard, with and
without JavaScript, at phone and desktop widths, and zero axe violations."""

from __future__ import annotations

import random
import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from labeling import services
from labeling.models import ScreenSide
from tests.browser.conftest import _page, assert_accessible

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


@pytest.fixture
def labeled(content, student):
    session, _ = services.session_start(user=student, rng=random.Random(3))
    for shown in session.shown.all():
        services.pick_record(session=session, pair=shown.pair_id, side=ScreenSide.RIGHT)
    services.session_finish(session=session)
    return student


def tab_to_id(page: Page, element_id: str, *, limit: int = 120) -> None:
    """Press Tab until the element with this id has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Could not reach #{element_id} with the Tab key")


def step_count(page: Page, region: str) -> str:
    return page.locator(f"#{region} .step-count strong").inner_text()


def test_step_the_optimisers_with_the_keyboard(page, live_server, labeled):
    log_in(page, live_server, labeled)
    page.goto(f"{BASE}/optimisers/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Step the optimisers")
    assert_accessible(page)

    tab_to_id(page, "pg-step-10")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]steps=10(&|$)"))
    expect(page.locator("#pg-lab .step-count strong")).to_have_text("10")
    expect(page.locator("#pg-step-10")).to_be_focused()  # focus survives the swap
    expect(page.locator("#lab-live")).to_contain_text("Policy gradient, step 10")
    page.keyboard.press("Enter")  # again: step 20
    expect(page.locator("#pg-lab .step-count strong")).to_have_text("20")

    # PPO clip by keyboard: the checkbox's change swaps the lab in place.
    tab_to_id(page, "pg-clip", limit=200)  # wraps round the page to the form
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"clip=1"))
    expect(page.locator("#pg-lab")).to_contain_text("of PPO-clip")
    assert_accessible(page)

    # DPO: step 100 at once; the policy-gradient state stays in the URL.
    tab_to_id(page, "dpo-step-100", limit=200)
    page.keyboard.press("Enter")
    expect(page.locator("#dpo-lab .step-count strong")).to_have_text("100")
    expect(page).to_have_url(re.compile(r"dpo_steps=100"))
    expect(page).to_have_url(re.compile(r"[?&]steps=20(&|$)"))
    expect(page.locator("#pg-lab .step-count strong")).to_have_text("20")
    expect(page.locator("#dpo-lab")).to_contain_text("chosen answers are now less likely")
    assert_accessible(page)

    # A reload of the pushed URL shows the same state: the URL is the whole state.
    page.reload()
    expect(page.locator("#pg-lab .step-count strong")).to_have_text("20")
    expect(page.locator("#dpo-lab .step-count strong")).to_have_text("100")


def test_step_the_optimisers_without_javascript(nojs_page, live_server, labeled):
    page = log_in(nojs_page, live_server, labeled)
    page.goto(f"{BASE}/optimisers/")
    tab_to_id(page, "pg-step-100")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"[?&]steps=100(&|$)"))
    expect(page.locator("#pg-lab .step-count strong")).to_have_text("100")
    # Settings through the plain GET form: choose beta 1 and apply.
    page.get_by_label("KL weight β").select_option("1")
    page.locator("#pg-lab form").get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"beta=1(&|$)"))
    expect(page.locator("#pg-lab .step-count strong")).to_have_text("100")
    expect(page.locator("#pg-lab")).to_contain_text("β = 1)")
    assert_accessible(page)


def test_run_grpo_with_the_keyboard_on_a_phone(phone_page, live_server, labeled):
    page = log_in(phone_page, live_server, labeled)
    page.goto(f"{BASE}/rlvr/")
    expect(page.get_by_role("heading", level=1)).to_have_text("RL with verifiable rewards")
    assert_accessible(page)
    tab_to_id(page, "grpo-step-10", limit=200)
    page.keyboard.press("Enter")
    expect(page.locator("#grpo-lab .step-count strong")).to_have_text("10")
    expect(page.locator("#grpo-step-10")).to_be_focused()
    expect(page.locator("#grpo-lab")).to_contain_text("groups so far scored all the same")

    # Group size by keyboard: the select's change swaps the lab.
    page.locator("#grpo-group").focus()
    page.keyboard.press("ArrowDown")
    expect(page).to_have_url(re.compile(r"group=16"))
    expect(page.locator("#grpo-lab")).to_contain_text("G = 16")
    # The rejection-sampling part is judged by this learner's model.
    expect(page.locator("#rs-lab")).to_contain_text("your reward model's favourite")
    assert_accessible(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px ({width} px)"


@pytest.fixture(params=[1280, 360], ids=["desktop", "phone"])
def nojs_any_width(request, browser, live_server):
    yield from _page(browser, live_server, javascript=False, width=request.param)


def test_run_grpo_without_javascript(nojs_any_width, live_server, labeled):
    page = log_in(nojs_any_width, live_server, labeled)
    page.goto(f"{BASE}/rlvr/?kl=0")
    tab_to_id(page, "grpo-step-100", limit=200)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"[?&]steps=100(&|$)"))
    expect(page.locator("#grpo-lab .step-count strong")).to_have_text("100")
    expect(page.locator("#grpo-lab")).to_contain_text("KL weight 0,")
    page.get_by_label("Answers per prompt k").select_option("16")
    page.locator("#rs-lab form").get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"k=16"))
    expect(page.locator("#grpo-lab .step-count strong")).to_have_text("100")
    expect(page.locator("#rs-lab")).to_contain_text("best-of-16")
    assert_accessible(page)
