"""The quiz cannot be started from a bank that is too small, and only passing marks
the quiz section done (not the shared pager's "Done" button)."""

from __future__ import annotations

import io
import random

import pytest
from django.urls import reverse

from courseware.models import Section, SectionProgress
from quiz import loader, services
from quiz.models import Attempt, Question

from .conftest import form_with

pytestmark = pytest.mark.django_db

KW = {"course": "language-models", "module": "post-training"}


def keep_active(quiz, n):
    keep = list(quiz.questions.order_by("order").values_list("pk", flat=True)[:n])
    Question.objects.filter(quiz=quiz).exclude(pk__in=keep).update(is_active=False)


def test_start_with_too_few_active_questions_says_so_and_writes_nothing(student_client, quiz):
    keep_active(quiz, quiz.questions_per_attempt - 1)
    response = student_client.post(reverse("quiz:start", kwargs=KW))
    assert response.status_code == 409
    assert 'role="alert"' in response.text
    assert "needs 5 questions and only 4 are active" in response.text
    assert Attempt.objects.count() == 0


def test_service_raises_a_readable_error_for_a_small_bank(quiz, student):
    keep_active(quiz, 2)
    with pytest.raises(services.QuizUnavailableError, match="only 2 are active"):
        services.attempt_start(user=student, quiz=quiz, rng=random.Random(1))


def test_start_with_exactly_enough_questions_works(student_client, quiz):
    keep_active(quiz, quiz.questions_per_attempt)
    response = student_client.post(reverse("quiz:start", kwargs=KW))
    assert response.status_code == 302
    assert Attempt.objects.get().slots.count() == quiz.questions_per_attempt


def test_loader_refuses_a_bank_smaller_than_one_attempt():
    question = {"slug": "q", "choices": []}
    data = {
        "quiz": {"title": "T", "questions_per_attempt": 3, "pass_mark": 2},
        "questions": [question] * 2,
    }
    with pytest.raises(loader.ContentError, match="2 active questions, each attempt draws 3"):
        loader.validate_quiz_data(data)
    data["questions"] = [question] * 3
    loader.validate_quiz_data(data)  # enough
    data["quiz"]["pass_mark"] = 4
    with pytest.raises(loader.ContentError, match="pass mark 4"):
        loader.validate_quiz_data(data)


def test_shipped_content_passes_the_bank_check(content):
    loader.load_content(stdout=io.StringIO())  # raises if the shipped bank were too small


def question_form(question, *, active: bool) -> dict[str, str]:
    choices = list(question.choices.order_by("order"))
    data = {
        "quiz": str(question.quiz_id),
        "slug": question.slug,
        "order": str(question.order),
        "topic": question.topic,
        "text": question.text,
        "choices-TOTAL_FORMS": str(len(choices)),
        "choices-INITIAL_FORMS": str(len(choices)),
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
    }
    if active:
        data["is_active"] = "on"
    for i, choice in enumerate(choices):
        data |= {
            f"choices-{i}-id": str(choice.pk),
            f"choices-{i}-question": str(question.pk),
            f"choices-{i}-order": str(choice.order),
            f"choices-{i}-text": choice.text,
            f"choices-{i}-explanation": choice.explanation,
        }
        if choice.is_correct:
            data[f"choices-{i}-is_correct"] = "on"
    return data


def test_admin_refuses_to_deactivate_below_one_attempts_draw(client, admin_user, quiz):
    client.force_login(admin_user)
    keep_active(quiz, quiz.questions_per_attempt)
    question = quiz.questions.filter(is_active=True).first()
    url = f"/admin/quiz/question/{question.pk}/change/"
    response = client.post(url, question_form(question, active=False))
    assert response.status_code == 200
    assert "learners could not start it" in response.text
    assert Question.objects.get(pk=question.pk).is_active


def test_admin_may_deactivate_when_enough_remain(client, admin_user, quiz):
    client.force_login(admin_user)
    question = quiz.questions.first()
    url = f"/admin/quiz/question/{question.pk}/change/"
    assert client.post(url, question_form(question, active=False)).status_code == 302
    assert not Question.objects.get(pk=question.pk).is_active


def test_admin_refuses_more_questions_per_attempt_than_active_questions(client, admin_user, quiz):
    client.force_login(admin_user)
    questions = list(quiz.questions.order_by("order"))
    data = {
        "module": str(quiz.module_id),
        "title": quiz.title,
        "intro": quiz.intro,
        "pass_mark": "4",
        "questions_per_attempt": str(len(questions) + 1),
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": str(len(questions)),
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for i, q in enumerate(questions):
        data |= {
            f"questions-{i}-id": str(q.pk),
            f"questions-{i}-quiz": str(quiz.pk),
            f"questions-{i}-order": str(q.order),
            f"questions-{i}-slug": q.slug,
            f"questions-{i}-topic": q.topic,
            f"questions-{i}-is_active": "on",
        }
    response = client.post(f"/admin/quiz/quiz/{quiz.pk}/change/", data)
    assert response.status_code == 200
    assert "learners could not start it" in response.text
    quiz.refresh_from_db()
    assert quiz.questions_per_attempt == 5
    data["questions_per_attempt"] = str(len(questions))
    assert client.post(f"/admin/quiz/quiz/{quiz.pk}/change/", data).status_code == 302


# ------------------------------------------------------------------- the Done button


def quiz_section(quiz):
    return Section.objects.get(module=quiz.module, url_name="quiz:quiz")


def test_quiz_pages_show_no_done_button(student_client, quiz):
    page = student_client.get(reverse("quiz:quiz", kwargs=KW)).text
    done_url = reverse("courseware:section-done", kwargs=KW | {"section": "quiz"})
    assert done_url not in page
    assert "Passing the quiz marks this section done." in page


def test_reading_pages_keep_their_done_button(student_client, content):
    page = student_client.get(reverse("courseware:pipeline", kwargs=KW)).text
    assert reverse("courseware:section-done", kwargs=KW | {"section": "pipeline"}) in page


def test_done_button_url_refuses_the_quiz_section(student_client, student, quiz):
    url = reverse("courseware:section-done", kwargs=KW | {"section": "quiz"})
    response = student_client.post(url)
    assert response.status_code == 409
    assert "Passing the quiz marks this section done." in response.text
    assert not SectionProgress.objects.filter(
        user=student, section=quiz_section(quiz), done_at__isnull=False
    ).exists()


def test_passing_still_marks_the_quiz_section_done(student_client, student, quiz):
    attempt = services.attempt_start(user=student, quiz=quiz, rng=random.Random(3))
    url = reverse("quiz:submit", kwargs=KW | {"pk": attempt.pk})
    student_client.post(url, form_with(attempt, quiz.pass_mark))
    assert SectionProgress.objects.filter(
        user=student, section=quiz_section(quiz), done_at__isnull=False
    ).exists()
