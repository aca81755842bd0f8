"""An instructor reaches the class's quiz analytics by keyboard; the page, its
histogram and its question table pass axe, with and without JS and on a phone."""

from __future__ import annotations

import io
import random

import pytest
from playwright.sync_api import Page, expect

from courseware.models import Enrollment
from quiz import demo
from tests.browser.conftest import assert_accessible, tab_to
from tests.browser.test_quiz import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def busy_class(content, classroom, make_user):
    students = []
    for n in range(24):
        user = make_user(f"learner{n:02d}")
        Enrollment.objects.create(classroom=classroom, student=user)
        students.append(user)
    demo.demo_populate(
        classroom=classroom, students=students, rng=random.Random(6), stdout=io.StringIO()
    )
    return classroom


def test_instructor_opens_quiz_analytics_with_the_keyboard(page: Page, busy_class, instructor):
    page.goto("/")
    log_in(page, instructor)
    page.goto(f"/teach/classes/{busy_class.pk}/")
    tab_to(page, "Quiz analytics")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Quiz analytics: {busy_class.name}")
    expect(page.get_by_role("table", name="Students by score")).to_be_visible()
    expect(page.get_by_role("heading", name="Questions to check")).to_be_visible()
    assert "learner" not in page.content()  # aggregates only, no names
    assert_accessible(page)


def test_quiz_analytics_fits_a_phone(phone_page: Page, busy_class, instructor):
    phone_page.goto("/")
    log_in(phone_page, instructor)
    phone_page.goto(f"/teach/classes/{busy_class.pk}/quiz/")
    expect(
        phone_page.get_by_role("table", name="Students by number of submitted attempts")
    ).to_be_visible()
    overflow = phone_page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert_accessible(phone_page)


def test_quiz_analytics_works_without_js(nojs_page: Page, busy_class, instructor):
    nojs_page.goto("/")
    log_in(nojs_page, instructor)
    nojs_page.goto(f"/teach/classes/{busy_class.pk}/quiz/")
    expect(nojs_page.get_by_role("table", name="Students by score")).to_be_visible()
    expect(nojs_page.get_by_role("heading", name="Questions to check")).to_be_visible()
    assert_accessible(nojs_page)
