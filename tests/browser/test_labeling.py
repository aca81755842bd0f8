"""Label six pairs, change one, read the profile, move beta, pick principles, download the
JSONL: once with the keyboard and JavaScript, once with JavaScript off."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from labeling.models import Pick
from tests.browser.conftest import assert_accessible, tab_to

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/courses/language-models/post-training"


def log_in(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("student_a")
    page.get_by_label("Password").fill("a-long-test-password-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Continue")).to_be_visible()


def pair_heading(page: Page, n: int):
    return page.get_by_role("heading", name=f"Pair {n} of 6")


def settled(page: Page) -> None:
    """labeling.js ignores keys until htmx has wired up the newly swapped pair."""
    expect(page.locator("html")).not_to_have_attribute("data-labeling-busy", "")


def check_download(page: Page, link_text: str) -> None:
    with page.expect_download() as info:
        tab_to(page, link_text)
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == "my-preferences.jsonl"
    lines = open(download.path(), encoding="utf-8").read().splitlines()  # noqa: SIM115
    assert len(lines) == 6
    for line in lines:
        record = json.loads(line)
        assert list(record) == ["prompt", "chosen", "rejected"]
        assert record["prompt"][0]["role"] == "user"
        assert record["chosen"][0]["role"] == record["rejected"][0]["role"] == "assistant"


def test_label_by_keyboard_then_profile_policy_rlaif_and_export(
    page, live_server, student, content
):
    log_in(page)
    page.goto(f"{BASE}/label/")
    expect(page.get_by_text("1 or ← picks the left answer")).to_be_visible()
    assert_accessible(page)
    tab_to(page, "Start labeling")
    page.keyboard.press("Enter")

    expect(pair_heading(page, 1)).to_be_visible()
    expect(page.get_by_text("Keyboard: press 1 or ←")).to_be_visible()
    assert_accessible(page)
    keys = ["1", "ArrowRight", "ArrowLeft", "2", "1", "2"]
    for n, key in enumerate(keys, start=1):
        expect(pair_heading(page, n)).to_be_visible()
        settled(page)
        page.keyboard.press(key)
        if n < 6:
            expect(pair_heading(page, n + 1)).to_be_focused()
    expect(page.get_by_role("heading", name="All 6 pairs picked")).to_be_focused()
    expect(page.get_by_role("progressbar", name="Pairs picked")).to_have_attribute("value", "6")
    assert Pick.objects.count() == 6
    assert_accessible(page)

    # Change pick 3 (was left) to the right response.
    tab_to(page, "Change pick 3")
    page.keyboard.press("Enter")
    expect(pair_heading(page, 3)).to_be_visible()
    expect(page.get_by_text("your pick")).to_be_visible()
    page.keyboard.press("2")
    expect(page.get_by_role("heading", name="All 6 pairs picked")).to_be_visible()
    third = Pick.objects.get(pair__order=3)
    assert third.chosen_left is False
    assert Pick.objects.count() == 6

    tab_to(page, "Finish and see your reward profile")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your reward profile")
    expect(page.get_by_text("You chose the more concise answer in")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Fitted weight per trait"))).to_be_visible()
    assert_accessible(page)
    check_download(page, "Download your picks")

    page.goto(f"{BASE}/policy/")
    expect(page.get_by_role("heading", name=re.compile("^β = 0.1:"))).to_be_visible()
    assert_accessible(page)
    tab_to(page, "KL weight")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("heading", name=re.compile("^β = 0.02:"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"beta=1"))
    expect(page.locator("#beta-slider")).to_be_focused()
    assert_accessible(page)

    page.goto(f"{BASE}/rlaif/")
    assert_accessible(page)
    tab_to(page, "Be brief")
    page.keyboard.press("Space")
    expect(
        page.get_by_role(
            "heading",
            name=re.compile(
                r"(agrees with you on \d of \d pairs? it could decide|could not decide any of your pairs)"
            ),
        )
    ).to_be_visible()
    tab_to(page, "Be kind")
    page.keyboard.press("Space")
    expect(page.get_by_role("table", name=re.compile("Be brief, Be kind"))).to_be_visible()
    assert_accessible(page)


def test_the_same_flow_works_with_javascript_off(nojs_page, live_server, student, content):
    page = nojs_page
    log_in(page)
    page.goto(f"{BASE}/label/")
    tab_to(page, "Start labeling")
    page.keyboard.press("Enter")
    for n in range(1, 7):
        expect(pair_heading(page, n)).to_be_visible()
        tab_to(page, "Choose left" if n % 2 else "Choose right")
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All 6 pairs picked")).to_be_visible()
    expect(page.get_by_text("Keyboard: press 1")).to_be_hidden()
    assert_accessible(page)

    tab_to(page, "Change pick 1")
    page.keyboard.press("Enter")
    expect(pair_heading(page, 1)).to_be_visible()
    tab_to(page, "Choose right")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All 6 pairs picked")).to_be_visible()
    assert Pick.objects.get(pair__order=1).chosen_left is False
    assert Pick.objects.count() == 6

    tab_to(page, "Finish and see your reward profile")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your reward profile")
    check_download(page, "Download your picks")

    page.goto(f"{BASE}/policy/")
    tab_to(page, "KL weight")
    page.keyboard.press("ArrowRight")
    tab_to(page, "Show")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^β = 0.2:"))).to_be_visible()
    assert_accessible(page)

    page.goto(f"{BASE}/rlaif/")
    tab_to(page, "Avoid harm")
    page.keyboard.press("Space")
    tab_to(page, "Label with these principles")
    page.keyboard.press("Enter")
    expect(
        page.get_by_role(
            "heading",
            name=re.compile(
                r"(agrees with you on \d of \d pairs? it could decide|could not decide any of your pairs)"
            ),
        )
    ).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile("Avoid harm"))).to_be_checked()


def test_a_refused_pick_shows_the_servers_message_and_keeps_the_page(
    page, live_server, student, content
):
    from labeling import services
    from labeling.models import LabelingSession, ScreenSide

    log_in(page)
    page.goto(f"{BASE}/label/")
    page.get_by_role("button", name="Start labeling").click()
    expect(pair_heading(page, 1)).to_be_visible()
    # Meanwhile, in another tab, the learner picks everything and finishes.
    session = LabelingSession.objects.get(user=student)
    for shown in session.shown.all():
        services.pick_record(session=session, pair=shown.pair_id, side=ScreenSide.LEFT)
    services.session_finish(session=session)
    settled(page)
    page.keyboard.press("2")
    expect(page.get_by_role("alert")).to_contain_text("This labeling session is finished")
    expect(pair_heading(page, 1)).to_be_visible()
    settled(page)
    assert not Pick.objects.filter(chosen_left=False).exists()
    assert_accessible(page)
