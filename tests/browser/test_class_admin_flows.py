"""The remaining class flows in a real browser, by keyboard: an instructor regenerates
the join code (htmx swaps the card; the old code then fails) and sorts the roster; a
student joins a second class, first with a bad code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from courseware.models import Classroom, Enrollment
from tests.browser.conftest import assert_accessible, tab_to

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password-42")
    page.get_by_role("button", name="Log in").click()


def test_instructor_regenerates_the_code_and_sorts_the_roster_by_keyboard(
    page, live_server, instructor, classroom, make_user
):
    for name in ("zoe", "adam"):
        Enrollment.objects.create(classroom=classroom, student=make_user(name))
    old = classroom.join_code_display
    log_in(page, "teacher_a")
    page.goto(f"/teach/classes/{classroom.pk}/")
    expect(page.locator("#join-code-value")).to_have_text(old)
    tab_to(page, "Regenerate code")
    page.keyboard.press("Enter")
    expect(page.locator("#join-code-value")).not_to_have_text(old)
    new = page.locator("#join-code-value").inner_text()
    assert Classroom.objects.get(pk=classroom.pk).join_code_display == new
    assert_accessible(page)

    # The roster's scrolling region takes focus first (so a phone can scroll it by key).
    tab_to(page, "Students table")
    tab_to(page, "Student")  # the sortable column header
    page.keyboard.press("Enter")  # already sorted by name: this sorts descending
    expect(page).to_have_url(re.compile(r"sort=name&dir=desc"))
    rows = page.locator("#roster tbody th")
    expect(rows.first).to_have_text("zoe")
    assert_accessible(page)


def test_student_joins_a_second_class_after_a_bad_code(page, live_server, student, other_classroom):
    log_in(page, "student_a")
    page.goto("/join/")
    tab_to(page, "Class join code")
    page.keyboard.type("NOPE-NOPE-1")
    page.keyboard.press("Enter")
    expect(page.get_by_text("does not match any class")).to_be_visible()
    assert_accessible(page)
    code = page.get_by_label("Class join code")
    code.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(other_classroom.join_code_display.lower())
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"You have joined {other_classroom.name}")).to_be_visible()
    assert Enrollment.objects.filter(student=student).count() == 2
