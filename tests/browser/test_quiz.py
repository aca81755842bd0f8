"""Take the quiz with the keyboard: warned about a gap, fail, read why, retake, pass."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from quiz.models import Attempt, AttemptQuestion, Choice
from tests.browser.conftest import assert_accessible, tab_to

pytestmark = pytest.mark.django_db(transaction=True)

QUIZ_PATH = "/courses/language-models/post-training/quiz/"


def log_in(page: Page, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": page.url or "http://localhost"}]
    )


def key_for_open_attempt(user) -> dict[int, int]:
    """{position: 1-based index of the right choice} for the learner's open attempt."""
    attempt = Attempt.objects.get(user=user, submitted_at__isnull=True)
    key = {}
    for slot in AttemptQuestion.objects.filter(attempt=attempt):
        correct = Choice.objects.get(question_id=slot.question_id, is_correct=True).pk
        key[slot.position] = slot.choice_order.index(correct) + 1
    return key


def choose_with_keys(page: Page, index: int) -> None:
    """Focus is on the first radio of a group: pick the `index`-th choice by keyboard."""
    if index == 1:
        page.keyboard.press("Space")
    for _ in range(index - 1):
        page.keyboard.press("ArrowDown")


def focused_name(page: Page) -> str:
    return page.evaluate("() => document.activeElement.name || ''")


def answer(page: Page, picks: dict[int, int]) -> None:
    """Tab through the attempt form, answering the given positions with the given indexes."""
    for _ in range(40):  # from wherever focus is, Tab to the first question
        page.keyboard.press("Tab")
        if focused_name(page) == "q1":
            break
    for position in range(1, 6):
        if position > 1:
            page.keyboard.press("Tab")
        assert focused_name(page) == f"q{position}"
        if position in picks:
            choose_with_keys(page, picks[position])


def wrong(index: int) -> int:
    return 1 if index != 1 else 2


def test_take_the_quiz_by_keyboard_fail_read_explanations_retake_and_pass(
    page, live_server, content, student
):
    page.goto("/")
    log_in(page, student)
    page.goto(QUIZ_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Quiz: from base model to assistant")
    assert_accessible(page)

    tab_to(page, "Start the quiz")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("attempt 1")
    assert_accessible(page)

    # First attempt: three right, one wrong, question 5 left out.
    key = key_for_open_attempt(student)
    answer(page, {1: key[1], 2: key[2], 3: key[3], 4: wrong(key[4])})
    tab_to(page, "Submit answers")
    page.keyboard.press("Enter")
    warning = page.locator("#quiz-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Question 5 not answered yet")
    expect(warning).to_be_focused()
    expect(page.locator("#q5-error")).to_be_visible()
    assert Attempt.objects.get(user=student).submitted_at is None
    assert_accessible(page)

    # Follow the warning's link to the gap and answer it (wrongly).
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Go to question 5")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused_name(page) == "q5"
    choose_with_keys(page, wrong(key[5]))
    expect(page.locator("#q5-error")).to_be_hidden()
    tab_to(page, "Submit answers")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=2, name="Not passed yet: 3 of 5")).to_be_visible()
    # Every choice explains itself, the right one and the learner's wrong one included.
    attempt = Attempt.objects.get(user=student, number=1)
    assert (attempt.score, attempt.passed) == (3, False)
    assert page.locator(".quiz-explanations > li").count() == 20
    slot = AttemptQuestion.objects.get(attempt=attempt, position=4)
    right = Choice.objects.get(question_id=slot.question_id, is_correct=True)
    expect(page.locator(".quiz-result").nth(3)).to_contain_text(f"Right answer: {right.text}")
    assert_accessible(page)

    tab_to(page, "Retake the quiz")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("attempt 2")

    # Second attempt: four right, one wrong — a pass.
    key = key_for_open_attempt(student)
    answer(page, {1: key[1], 2: key[2], 3: wrong(key[3]), 4: key[4], 5: key[5]})
    tab_to(page, "Submit answers")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name="Passed: 4 of 5")).to_be_visible()
    assert_accessible(page)

    page.goto("/courses/language-models/post-training/")
    scores = page.locator(".quiz-scores dd")
    expect(scores.nth(0)).to_have_text("4 of 5")  # best
    expect(scores.nth(1)).to_have_text("4 of 5 (passed)")  # latest
    assert_accessible(page)
    expect(page.get_by_role("link", name="Quiz (done)")).to_be_visible()


def test_without_javascript_the_server_names_the_gap_and_keeps_the_answers(
    nojs_page, live_server, content, student
):
    page = nojs_page
    page.goto("/")
    log_in(page, student)
    page.goto(QUIZ_PATH)
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("attempt 1")
    key = key_for_open_attempt(student)
    for position in (1, 2, 4, 5):
        page.locator(f"#q{position}-{key[position]}").check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("#quiz-errors")).to_contain_text("Question 3 not answered yet")
    for position in (1, 2, 4, 5):
        expect(page.locator(f"#q{position}-{key[position]}")).to_be_checked()
    assert_accessible(page)
    page.locator(f"#q3-{key[3]}").check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", level=2, name="Passed: 5 of 5")).to_be_visible()


def test_attempt_and_result_fit_a_360px_phone(phone_page, live_server, content, student):
    page = phone_page
    page.goto("/")
    log_in(page, student)
    page.goto(QUIZ_PATH)
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.locator("fieldset.quiz-question")).to_have_count(5)
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 0
    assert_accessible(page)
    key = key_for_open_attempt(student)
    for position in range(1, 6):
        page.locator(f"#q{position}-{key[position]}").check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", level=2, name="Passed: 5 of 5")).to_be_visible()
    assert page.evaluate(overflow) <= 0
    assert_accessible(page)
