"""The teaching pages in a real browser: keyboard use, htmx swaps with URL updates,
the guessing game, no-JS and phone layouts, and zero axe violations."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

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


def test_walk_the_pipeline_with_the_keyboard(page, live_server, student, content):
    log_in(page, live_server, student)
    page.goto(f"{BASE}/pipeline/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The pipeline")
    expect(page.get_by_role("list", name="The training pipeline, in order")).to_be_visible()
    assert_accessible(page)

    # (the overview cites every stage's sources, so the pager is some way down)
    tab_to(page, "Next: Pre-training", limit=80)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/pipeline/stage/pre-training/$"))
    heading = page.locator("#stage-heading")
    expect(heading).to_have_text("Pre-training")
    expect(heading).to_be_focused()  # focus follows the swapped-in panel
    assert_accessible(page)

    for title, slug in [("SFT", "sft"), ("Reward model", "reward-model"), ("RLHF", "rlhf")]:
        tab_to(page, f"Next: {title}", limit=60)
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"/pipeline/stage/{slug}/$"))
        expect(page.locator('[aria-current="step"]')).to_contain_text(title)
    expect(page.locator("#stage-heading")).to_contain_text("RLHF")
    expect(page.get_by_text("What it cannot do")).to_be_visible()

    tab_to(page, "Previous: Reward model", limit=60)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/pipeline/stage/reward-model/$"))
    assert_accessible(page)


def test_query_the_next_token_demo(page, live_server, student, content):
    log_in(page, live_server, student)
    page.goto(f"{BASE}/pre-training/")
    assert_accessible(page)
    tab_to(page, "Start of a sentence")
    page.keyboard.type("and the lord")
    page.keyboard.press("Enter")
    table = page.locator("#next-result table")
    expect(table.locator("caption")).to_contain_text("“the lord”")
    expect(table.locator("tbody tr")).to_have_count(10)
    expect(page).to_have_url(re.compile(r"\?phrase=and(\+|%20)the(\+|%20)lord$"))
    assert_accessible(page)

    # A malformed temperature: a readable message in place, and no sample.
    page.get_by_label("Temperature").fill("abc")
    page.get_by_label("Temperature").press("Enter")
    expect(page.locator("#sample-result")).to_contain_text("must be a number")
    page.get_by_label("Temperature").fill("0.5")
    page.get_by_label("Seed").fill("11")
    page.get_by_label("Seed").press("Enter")
    expect(page.locator("#sample-result blockquote")).to_be_visible()
    expect(page).to_have_url(re.compile(r"seed=11"))
    assert_accessible(page)


def test_switch_comparison_prompts(page, live_server, student, content):
    log_in(page, live_server, student)
    page.goto(f"{BASE}/compare/")
    panel = page.locator("#compare-panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(
        "The moon landing for a six-year-old"
    )
    assert_accessible(page)

    tab_to(page, "Einstein's Nobel Prize")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/compare/\?prompt=einstein-nobel$"))
    expect(panel.get_by_role("heading", level=2)).to_have_text("Einstein's Nobel Prize")
    expect(panel).to_contain_text("photoelectric")
    expect(page.get_by_role("link", name="Einstein's Nobel Prize")).to_have_attribute(
        "aria-current", "true"
    )
    expect(panel.locator("article")).to_have_count(3)
    assert_accessible(page)

    page.get_by_role("link", name="The Great Wall from the Moon").click()
    expect(page).to_have_url(re.compile(r"\?prompt=great-wall$"))
    expect(panel).to_contain_text("naked eye")
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?prompt=einstein-nobel$"))
    expect(page.locator("#compare-panel")).to_contain_text("photoelectric")


def test_play_one_round_of_which_stage_wrote_this(page, live_server, student, content):
    from courseware.models import CompareResponse

    answer = CompareResponse.objects.get(prompt__slug="neighbours-house", stage="rlhf")
    log_in(page, live_server, student)
    page.goto(f"{BASE}/compare/guess/?response={answer.pk}")
    expect(page.get_by_role("heading", name="Who wrote this answer?")).to_be_visible()
    assert_accessible(page)
    # (the outline's "From base model to assistant" would match a Tab search for "Base model")
    page.get_by_label("Base model").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("RLHF model")).to_be_checked()
    tab_to(page, "Check my guess")
    page.keyboard.press("Enter")
    result = page.locator("#round-heading")
    expect(result).to_have_text("Right: the RLHF model wrote it")
    expect(result).to_be_focused()
    expect(page.locator("#guess-panel")).to_contain_text("safe refusal")
    assert_accessible(page)

    page.get_by_role("link", name="Play another round").click()
    expect(page.get_by_role("heading", name="Who wrote this answer?")).to_be_visible()


def test_comparison_viewer_works_without_javascript(nojs_page, live_server, student, content):
    page = log_in(nojs_page, live_server, student)
    page.goto(f"{BASE}/compare/?prompt=great-wall")
    expect(page.locator("#compare-panel h2")).to_have_text("The Great Wall from the Moon")
    page.get_by_role("link", name="A three-day headache").click()
    expect(page).to_have_url(re.compile(r"\?prompt=headache$"))
    expect(page.locator("#compare-panel h2")).to_have_text("A three-day headache")
    expect(page.locator("#compare-panel article")).to_have_count(3)
    assert_accessible(page)

    page.goto(f"{BASE}/compare/guess/")
    page.get_by_label("SFT model").check()
    page.get_by_role("button", name="Check my guess").click()
    expect(page.locator("#round-heading")).to_contain_text("wrote it")


def test_pipeline_and_demo_work_without_javascript(nojs_page, live_server, student, content):
    page = log_in(nojs_page, live_server, student)
    page.goto(f"{BASE}/pipeline/")
    page.get_by_role("link", name="Next: Pre-training").click()
    expect(page).to_have_url(re.compile(r"/pipeline/stage/pre-training/$"))
    page.goto(f"{BASE}/pre-training/")
    page.get_by_label("A sentence", exact=True).fill("in the beginning")
    page.get_by_role("button", name="Score it").click()
    expect(page).to_have_url(re.compile(r"\?sentence=in\+the\+beginning$"))
    expect(page.locator("#score-result")).to_contain_text("perplexity")
    assert_accessible(page)


def test_comparison_stacks_on_a_phone(phone_page, live_server, student, content):
    page = log_in(phone_page, live_server, student)
    page.goto(f"{BASE}/compare/")
    cards = page.locator("#compare-panel article")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert second["y"] >= first["y"] + first["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)


def test_every_teaching_page_is_axe_clean_on_a_phone(phone_page, live_server, student, content):
    from courseware.models import PipelineStage

    page = log_in(phone_page, live_server, student)
    urls = [f"{BASE}/pipeline/", f"{BASE}/sft/", f"{BASE}/compare/", f"{BASE}/compare/guess/",
            f"{BASE}/pre-training/?phrase=and+the&sentence=in+the+beginning", f"{BASE}/closing/",
            f"{BASE}/critique/?principle=harmless&step=3"]  # fmt: skip
    urls += [
        f"{BASE}/pipeline/stage/{slug}/"
        for slug in PipelineStage.objects.values_list("slug", flat=True)
    ]
    for url in urls:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
        assert_accessible(page)
