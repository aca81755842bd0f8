"""The over-optimisation lab by keyboard: quick picks for the learner's own gold, then β
and n moved on the sliders; with JavaScript (htmx redraws one chart) and without (the
form's Show button), at 1280 px and 360 px, with zero axe violations."""

from __future__ import annotations

import random
import re

import pytest
from playwright.sync_api import Page, expect

from courseware.models import Enrollment
from labeling import services
from labeling.models import ScreenSide
from labs.models import HeldoutPick
from tests.browser.conftest import assert_accessible, tab_to

pytestmark = pytest.mark.django_db(transaction=True)

LAB = "/courses/language-models/post-training/over-optimisation/"


def finish_labeling(user, seed: int) -> None:
    rng = random.Random(seed)
    session, _ = services.session_start(user=user, rng=rng)
    for shown in session.shown.all():
        services.pick_record(
            session=session, pair=shown.pair_id, side=rng.choice(ScreenSide.values)
        )
    services.session_finish(session=session)


def log_in(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("student_a")
    page.get_by_label("Password").fill("a-long-test-password-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Continue")).to_be_visible()


def quick_picks(page: Page, count: int) -> None:
    for done in range(count):
        expect(page.get_by_text(f"{done} of 12 pairs picked")).to_be_visible()
        tab_to(page, "This one:")
        page.keyboard.press("Enter")
    expect(page.get_by_text(f"{count} of 12 pairs picked")).to_be_visible()


def test_quick_picks_then_beta_and_n_by_keyboard_with_javascript(
    page, live_server, student, content
):
    finish_labeling(student, 1)
    log_in(page)
    page.goto(LAB)
    expect(page.get_by_role("heading", name="Your own gold: a few quick picks")).to_be_visible()
    assert_accessible(page)
    quick_picks(page, 6)
    assert HeldoutPick.objects.filter(user=student).count() == 6
    expect(page.get_by_text("At your β = 0.1")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Proxy and gold reward gain"))).to_be_visible()
    assert_accessible(page)

    tab_to(page, "Your β")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_text("At your β = 0.02")).to_be_visible()
    expect(page).to_have_url(re.compile(r"beta=1"))
    expect(page.locator("#beta-slider")).to_be_focused()
    expect(page.locator("#beta-output")).to_have_text("0.02")

    tab_to(page, "Best-of-n")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text("With n = 17")).to_be_visible()
    expect(page).to_have_url(re.compile(r"n=17"))
    expect(page.locator("#n-slider")).to_be_focused()
    expect(page.get_by_text("At your β = 0.02")).to_be_visible()  # the other chart stayed
    assert_accessible(page)


def test_beta_and_n_by_keyboard_without_javascript(nojs_page, live_server, student, content):
    page = nojs_page
    finish_labeling(student, 2)
    log_in(page)
    page.goto(LAB)
    quick_picks(page, 6)
    tab_to(page, "Your β")
    page.keyboard.press("ArrowRight")
    tab_to(page, "Best-of-n")
    page.keyboard.press("ArrowLeft")
    tab_to(page, "Show")
    page.keyboard.press("Enter")
    expect(page.get_by_text("At your β = 0.2")).to_be_visible()
    expect(page.get_by_text("With n = 15")).to_be_visible()
    expect(page).to_have_url(re.compile(r"beta=4&n=15"))
    assert_accessible(page)


def test_a_class_gold_on_a_phone(phone_page, live_server, student, classroom, make_user, content):
    page = phone_page
    finish_labeling(student, 3)
    # The class tally is published in steps of five finished labelers: with the learner
    # and nine classmates the last one counted ten, nine of them classmates.
    for i in range(9):
        classmate = make_user(f"classmate_{i}")
        Enrollment.objects.create(classroom=classroom, student=classmate)
        finish_labeling(classmate, 10 + i)
    log_in(page)
    page.goto(LAB + "?beta=5&n=4")
    expect(page.get_by_text("9 classmates have finished labeling")).to_be_visible()
    expect(page.get_by_text("At your β = 0.5")).to_be_visible()
    assert_accessible(page)
    tab_to(page, "Best-of-n")
    page.keyboard.press("End")
    expect(page.get_by_text("With n = 64")).to_be_visible()
    tab_to(page, "The figures as a table")
    page.keyboard.press("Enter")
    expect(page.get_by_role("table", name=re.compile("for each β, from ∞"))).to_be_visible()
    assert_accessible(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360


def test_the_instructors_class_picture(
    page, live_server, instructor, classroom, make_user, content
):
    for i in range(6):
        classmate = make_user(f"classmate_{i}")
        Enrollment.objects.create(classroom=classroom, student=classmate)
        finish_labeling(classmate, 20 + i)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("teacher_a")
    page.get_by_label("Password").fill("a-long-test-password-42")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/teach/classes/{classroom.pk}/")
    tab_to(page, "Class over-optimisation")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Class over-optimisation: {classroom.name}"
    )
    expect(page.get_by_role("img", name=re.compile("one curve per student"))).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(7)  # the header and six students
    assert_accessible(page)


def test_a_big_class_table_pages_by_keyboard(
    page, live_server, instructor, classroom, make_user, content, monkeypatch
):
    from labs import class_view

    monkeypatch.setattr(class_view, "TABLE_PAGE", 4)  # the live server runs in this process
    for i in range(6):
        classmate = make_user(f"classmate_{i}")
        Enrollment.objects.create(classroom=classroom, student=classmate)
        finish_labeling(classmate, 40 + i)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("teacher_a")
    page.get_by_label("Password").fill("a-long-test-password-42")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/teach/classes/{classroom.pk}/over-optimisation/")
    expect(page.get_by_text("Students 1–4 of 6.")).to_be_visible()
    tab_to(page, "Next 4")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Students 5–6 of 6.")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(3)  # the header and two students
    assert_accessible(page)
    assert page.goto(f"/teach/classes/{classroom.pk}/over-optimisation/?page=²").status == 404
