"""Quiz pages through the test client."""

from __future__ import annotations

import random
import re
import threading
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.html import escape, strip_tags

from courseware.markdown import render_markdown
from quiz import services
from quiz.models import Answer, Attempt, AttemptQuestion, Choice
from tests.conftest import fill_content_caches

from .conftest import form_with

pytestmark = pytest.mark.django_db

KW = {"course": "language-models", "module": "post-training"}


def url(name: str, attempt: Attempt | None = None) -> str:
    return reverse(f"quiz:{name}", kwargs=KW | ({"pk": attempt.pk} if attempt else {}))


def text_of(html: str) -> str:
    """What a reader sees: tags stripped, entities decoded, spaces collapsed."""
    return " ".join(unescape(strip_tags(html)).split())


def explanation_text(choice: Choice) -> str:
    return text_of(render_markdown(choice.explanation))


def assert_no_key_or_explanations(html: str, attempt: Attempt) -> None:
    visible = text_of(html)
    question_ids = AttemptQuestion.objects.filter(attempt=attempt).values("question_id")
    for choice in Choice.objects.filter(question_id__in=question_ids):
        assert explanation_text(choice) not in visible
        assert choice.explanation[:50] not in html
        assert escape(choice.explanation[:50]) not in html
        if choice.is_correct:
            assert f'value="{choice.pk}"' not in html
            assert f'-{choice.pk}"' not in html
    assert "Right answer" not in html
    assert "is-correct" not in html


def test_quiz_page_shows_intro_and_start_button(student_client, quiz):
    response = student_client.get(url("quiz"))
    assert response.status_code == 200
    assert "Start the quiz" in response.text
    assert "you pass with 4 right" in response.text


def test_quiz_page_needs_login(client, quiz):
    response = client.get(url("quiz"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def fieldsets(html: str) -> list[str]:
    return re.findall(r"<fieldset.*?</fieldset>", html, flags=re.S)


def test_start_opens_an_attempt_and_reload_shows_the_same_order(
    student_client, client, quiz, student, other_student
):
    response = student_client.post(url("start"))
    attempt = Attempt.objects.get(user=student)
    assert response.status_code == 302
    assert response["Location"] == url("attempt", attempt)
    first = student_client.get(url("attempt", attempt)).text
    second = student_client.get(url("attempt", attempt)).text
    assert first.count("<fieldset") == 5
    assert first.count('type="radio"') == 20
    assert fieldsets(first) == fieldsets(second)
    other = services.attempt_start(user=other_student, quiz=quiz, rng=random.Random(77))
    client.force_login(other_student)
    assert fieldsets(client.get(url("attempt", other)).text) != fieldsets(first)


def test_start_again_resumes_the_open_attempt(student_client, attempt):
    response = student_client.post(url("start"))
    assert response["Location"] == url("attempt", attempt)
    assert Attempt.objects.count() == 1
    assert "Resume attempt 1" in student_client.get(url("quiz")).text


def test_answers_are_not_in_any_response_before_submission(student_client, attempt):
    pages = [
        student_client.get(url("quiz")),
        student_client.get(url("attempt", attempt)),
        # Missing answers: re-rendered with an error, still no key.
        student_client.post(url("submit", attempt), form_with(attempt, 5, skip=(3,))),
        # Tampered: rejected, still no key.
        student_client.post(url("submit", attempt), {"q1": "9"}),
        student_client.get(url("result", attempt), follow=True),
        student_client.get(reverse("courseware:module", kwargs=KW)),
    ]
    for response in pages:
        assert_no_key_or_explanations(response.content.decode(), attempt)
    assert Attempt.objects.get(pk=attempt.pk).submitted_at is None


def test_submit_four_of_five_passes_and_shows_every_explanation(student_client, attempt):
    response = student_client.post(url("submit", attempt), form_with(attempt, 4))
    assert response.status_code == 302
    assert response["Location"] == url("result", attempt)
    page = student_client.get(url("result", attempt)).text
    assert "Passed: 4 of 5" in page
    question_ids = AttemptQuestion.objects.filter(attempt=attempt).values("question_id")
    for choice in Choice.objects.filter(question_id__in=question_ids):
        assert explanation_text(choice) in text_of(page)
    assert page.count('<span class="badge">Right answer') == 5  # one per question
    assert page.count("Right answer:</strong>") == 1  # spelled out for the one missed
    assert "Time taken:" in page


def test_submit_three_of_five_fails(student_client, attempt):
    student_client.post(url("submit", attempt), form_with(attempt, 3))
    attempt.refresh_from_db()
    assert (attempt.score, attempt.passed) == (3, False)
    assert "Not passed yet: 3 of 5" in student_client.get(url("result", attempt)).text


def test_double_submit_grades_once_and_shows_the_same_result(student_client, attempt):
    first = student_client.post(url("submit", attempt), form_with(attempt, 5))
    graded = Attempt.objects.get(pk=attempt.pk)
    second = student_client.post(url("submit", attempt), form_with(attempt, 0))
    assert first["Location"] == second["Location"] == url("result", attempt)
    again = Attempt.objects.get(pk=attempt.pk)
    assert (again.score, again.submitted_at) == (5, graded.submitted_at)
    assert Answer.objects.filter(attempt=attempt).count() == 5


@pytest.mark.parametrize(
    "tamper",
    [
        {"q1": "5"},  # no fifth choice
        {"q1": "0"},
        {"q1": "abc"},
        {"q1": "-1"},
        {"q9": "1"},  # no ninth question in this attempt
        {"qx": "1"},
    ],
)
def test_tampered_answers_are_rejected_and_nothing_is_written(student_client, attempt, tamper):
    data = form_with(attempt, 5) | tamper
    response = student_client.post(url("submit", attempt), data)
    assert response.status_code == 400
    assert "Nothing was graded" in response.text
    attempt.refresh_from_db()
    assert attempt.submitted_at is None and attempt.score is None
    assert not Answer.objects.exists()


def test_unanswered_questions_get_a_400_that_keeps_the_chosen_answers(student_client, attempt):
    data = form_with(attempt, 5, skip=(2, 5))
    response = student_client.post(url("submit", attempt), data)
    assert response.status_code == 400
    page = response.text
    assert "Questions 2, 5 not answered yet" in page
    assert 'href="#q2"' in page and 'href="#q5"' in page
    assert page.count(" checked>") == 3
    for position in (1, 3, 4):
        assert (
            f'id="q{position}-{data[f"q{position}"]}" value="{data[f"q{position}"]}" checked'
            in page
        )
    assert not Answer.objects.exists()
    assert Attempt.objects.get(pk=attempt.pk).submitted_at is None


def test_retake_starts_a_new_attempt_after_a_result(student_client, attempt, student):
    student_client.post(url("submit", attempt), form_with(attempt, 2))
    assert "Retake the quiz" in student_client.get(url("result", attempt)).text
    response = student_client.post(url("start"))
    retake = Attempt.objects.get(user=student, number=2)
    assert response["Location"] == url("attempt", retake)
    assert retake.submitted_at is None


def test_attempt_page_of_a_submitted_attempt_redirects_to_its_result(student_client, attempt):
    student_client.post(url("submit", attempt), form_with(attempt, 5))
    response = student_client.get(url("attempt", attempt))
    assert response["Location"] == url("result", attempt)


def test_result_of_an_open_attempt_redirects_to_the_attempt(student_client, attempt):
    response = student_client.get(url("result", attempt))
    assert response["Location"] == url("attempt", attempt)


def test_another_learners_attempt_answers_404(client, attempt, other_student):
    client.force_login(other_student)
    assert client.get(url("attempt", attempt)).status_code == 404
    assert client.get(url("result", attempt)).status_code == 404
    assert client.post(url("submit", attempt), form_with(attempt, 5)).status_code == 404
    assert Attempt.objects.get(pk=attempt.pk).submitted_at is None


def test_module_overview_shows_best_and_latest_scores(student_client, quiz, student):
    for right in (5, 2):
        attempt = services.attempt_start(user=student, quiz=quiz, rng=random.Random(right))
        student_client.post(url("submit", attempt), form_with(attempt, right))
    page = student_client.get(reverse("courseware:module", kwargs=KW)).text
    assert "Best score</dt><dd>5 of 5" in page
    assert "Latest score</dt><dd>2 of 5 (not passed)" in page
    quiz_page = student_client.get(url("quiz")).text
    assert "Review attempt 2" in quiz_page and "Retake the quiz" in quiz_page


# A first visit to the quiz section: session, the user with their role and the content
# version, the learner's progress and the visit's insert = 4 (the bank is in memory), plus:
QUIZ_PAGE_QUERIES = 5  # the learner's attempts
ATTEMPT_PAGE_QUERIES = 5  # the attempt's slots with the attempt
RESULT_PAGE_QUERIES = 5  # the attempt's slots with the attempt and the answers
# Later pages of the section (an attempt, its result) write nothing: no insert.
REVISIT = 1


def test_pages_answer_in_bounded_queries_that_do_not_grow_with_attempts(
    student_client, quiz, student, django_assert_num_queries
):
    fill_content_caches()
    first = services.attempt_start(user=student, quiz=quiz, rng=random.Random(1))
    with django_assert_num_queries(ATTEMPT_PAGE_QUERIES):
        student_client.get(url("attempt", first))
    for n in range(2, 9):  # eight attempts, seven of them submitted
        student_client.post(url("submit", first), form_with(first, n % 6))
        first = services.attempt_start(user=student, quiz=quiz, rng=random.Random(n))
    submitted = Attempt.objects.filter(user=student, submitted_at__isnull=False).first()
    with django_assert_num_queries(QUIZ_PAGE_QUERIES - REVISIT):
        student_client.get(url("quiz"))
    with django_assert_num_queries(RESULT_PAGE_QUERIES - REVISIT):
        student_client.get(url("result", submitted))
    with django_assert_num_queries(ATTEMPT_PAGE_QUERIES - REVISIT):
        student_client.get(url("attempt", first))


def test_quiz_page_queries_are_the_same_with_no_attempts(
    student_client, quiz, django_assert_num_queries
):
    fill_content_caches()
    with django_assert_num_queries(QUIZ_PAGE_QUERIES):
        student_client.get(url("quiz"))


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submits_grade_once_without_errors(content, student):
    from quiz.models import Quiz

    quiz = Quiz.objects.get(module=content)
    attempt = services.attempt_start(user=student, quiz=quiz, rng=random.Random(2))
    data = form_with(attempt, 4)
    login = Client()
    login.force_login(student)
    cookie = login.cookies["sessionid"].value
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            client = Client()
            client.cookies["sessionid"] = cookie
            barrier.wait(timeout=30)
            response = client.post(url("submit", attempt), data)
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * 20
    graded = Attempt.objects.get(pk=attempt.pk)
    assert (graded.score, graded.passed) == (4, True)
    assert Answer.objects.filter(attempt=attempt).count() == 5
    assert Attempt.objects.filter(user=student).count() == 1
