"""An instructor opens their class, hides names, reads the class preferences and
downloads the gradebook and the class JSONL; zero axe violations on every page."""

from __future__ import annotations

import csv
import json

import pytest
from playwright.sync_api import Page, expect

from courseware.selectors import pseudonym
from labeling.models import PreferencePair
from tests.browser.conftest import assert_accessible, tab_to
from tests.labeling.test_class_view import add_labelers

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password-42")
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def labelers(content, classroom):
    p1, p2 = PreferencePair.objects.order_by("order")[:2]
    return add_labelers(
        classroom,
        [
            {p1: ("a", True), p2: ("b", True)},
            {p1: ("a", False), p2: ("b", True)},
            {p1: ("b", True), p2: ("a", False)},  # against the majority on both
        ],
        prefix="learner",
    )


def test_instructor_reads_class_preferences_and_downloads_exports(
    page, live_server, instructor, classroom, labelers
):
    outsider = labelers[2]
    log_in(page, instructor.username)
    page.goto("/teach/")
    page.get_by_role("link", name=classroom.name).click()
    expect(page.get_by_role("heading", level=1, name=classroom.name)).to_be_visible()
    roster = page.locator("#roster")
    expect(roster.get_by_role("rowheader", name=outsider.username)).to_be_visible()
    assert_accessible(page)

    # Privacy on, by keyboard: the roster shows pseudonyms only.
    tab_to(page, "Hide student names")
    page.keyboard.press("Enter")
    button = page.get_by_role("button", name="Hide student names")
    expect(button).to_have_attribute("aria-pressed", "true")
    alias = pseudonym(classroom_id=classroom.pk, user_id=outsider.pk)
    expect(roster.get_by_role("rowheader", name=alias)).to_be_visible()
    for user in labelers:
        expect(roster).not_to_contain_text(user.username)
    assert_accessible(page)

    # The class preferences page: figures, charts, and still no names.
    page.get_by_role("link", name="Class preferences", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Class preferences")
    expect(page.locator("#pairwise-agreement")).to_have_text(
        "33.3%"
    )  # 1 of 3 rater pairs agree on each pair
    expect(page.get_by_role("img", name="Warm: learners' weights")).to_be_visible()
    expect(page.get_by_text("72.6 ± 1.5%").first).to_be_visible()
    expect(page.locator("main")).to_contain_text(alias)
    for user in labelers:
        expect(page.locator("main")).not_to_contain_text(user.username)
    assert_accessible(page)

    # Back to the class: the gradebook CSV, then the class JSONL.
    page.get_by_role("link", name=classroom.name).click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the gradebook (CSV)").click()
    gradebook = info.value
    assert gradebook.suggested_filename == f"gradebook-{classroom.pk}.csv"
    with open(gradebook.path(), encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "username"
    assert "labeling_finished" in rows[0] and "labeling_picks" in rows[0]
    assert len(rows) == 1 + len(labelers)

    with page.expect_download() as info:
        page.get_by_role("link", name="Class preferences (JSONL)").click()
    jsonl = info.value
    assert jsonl.suggested_filename == f"class-{classroom.pk}-preferences.jsonl"
    with open(jsonl.path(), encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    assert len(records) == 6
    for record in records:
        assert list(record) == ["prompt", "chosen", "rejected"]
        assert record["prompt"][0]["role"] == "user"
        assert record["chosen"][0]["role"] == record["rejected"][0]["role"] == "assistant"
    # Downloads leave the class page in place, and it is still accessible.
    expect(page.get_by_role("heading", level=1, name=classroom.name)).to_be_visible()
    assert_accessible(page)
