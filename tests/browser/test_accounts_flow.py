"""Sign up with a join code, log out, log in and reach the module: keyboard only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, tab_to

pytestmark = pytest.mark.django_db(transaction=True)


def test_signup_logout_login_and_reach_the_module_by_keyboard(page, live_server, classroom):
    page.goto("/")
    assert_accessible(page)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to main content")

    tab_to(page, "Sign up")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    assert_accessible(page)

    # A wrong code first: the error is shown and tied to the field.
    tab_to(page, "Class join code")
    page.keyboard.type("WRONGCODE9")
    page.keyboard.press("Tab")
    page.keyboard.type("keyboard_learner")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("violet-kettle-orbit-19")
    page.keyboard.press("Tab")
    page.keyboard.type("violet-kettle-orbit-19")
    page.keyboard.press("Enter")
    expect(page.get_by_text("does not match any class")).to_be_visible()
    assert_accessible(page)

    code = page.get_by_label("Class join code")
    code.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(classroom.join_code.lower())
    for field in ["Password", "Password again"]:
        page.get_by_label(field, exact=True).focus()
        page.keyboard.type("violet-kettle-orbit-19")
    page.keyboard.press("Enter")
    expect(page.get_by_text("You have joined Class A")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("The pipeline")
    assert_accessible(page)

    tab_to(page, "Log out")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()

    tab_to(page, "Log in")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert_accessible(page)
    tab_to(page, "Username")
    page.keyboard.type("keyboard_learner")
    page.keyboard.press("Tab")
    page.keyboard.type("violet-kettle-orbit-19")
    page.keyboard.press("Enter")
    # A returning learner lands where they stopped: the first section.
    expect(page).to_have_url(re.compile(r"/courses/language-models/post-training/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("The pipeline")

    tab_to(page, "Module overview")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Module 3: From base model to assistant"
    )
    assert_accessible(page)


def test_phone_width_has_no_horizontal_scroll(phone_page, live_server, student):
    phone_page.goto("/accounts/login/")
    phone_page.get_by_label("Username").fill("student_a")
    phone_page.get_by_label("Password").fill("a-long-test-password-42")
    phone_page.get_by_role("button", name="Log in").click()
    phone_page.goto("/courses/language-models/post-training/")
    overflow = phone_page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert_accessible(phone_page)
