"""Quiz services and loader against the database."""

from __future__ import annotations

import io
import random

import pytest
from django.db import IntegrityError, transaction

from courseware.models import Section, SectionProgress
from quiz import demo, loader, services
from quiz.models import Answer, Attempt, AttemptQuestion, Choice, Question, Quiz, Topic

from .conftest import service_answers

pytestmark = pytest.mark.django_db


def test_shipped_bank_covers_every_stage_with_four_explained_choices(quiz):
    questions = list(quiz.questions.prefetch_related("choices"))
    assert len(questions) >= 10
    assert {q.topic for q in questions} >= {
        Topic.PRETRAINING,
        Topic.SFT,
        Topic.REWARD,
        Topic.RLHF,
        Topic.DPO,
        Topic.CAI,
    }
    for question in questions:
        choices = list(question.choices.all())
        assert len(choices) == 4
        assert sum(c.is_correct for c in choices) == 1
        assert all(c.explanation.strip() for c in choices)
    assert quiz.pass_mark == 4
    assert quiz.questions_per_attempt == 5
    assert quiz.module.slug == "post-training"
    assert quiz.module.course.slug == "language-models"


def test_shipped_bank_states_the_compute_ratio_as_a_few_percent_not_a_hundredfold(quiz):
    question = quiz.questions.get(slug="post-training-compute")
    correct = question.choices.get(is_correct=True)
    assert "few percent or less" in correct.text
    hundredfold = question.choices.get(text__icontains="100 times")
    assert not hundredfold.is_correct


def test_load_content_twice_creates_nothing_and_keeps_admin_edits(quiz):
    question = quiz.questions.get(slug="dpo-beta")
    question.text = "Edited by an admin"
    question.save()
    counts = (Quiz.objects.count(), Question.objects.count(), Choice.objects.count())
    out = io.StringIO()
    loader.load_content(stdout=out)
    assert (Quiz.objects.count(), Question.objects.count(), Choice.objects.count()) == counts
    assert "0 new quiz rows" in out.getvalue()
    assert Question.objects.get(pk=question.pk).text == "Edited by an admin"


def test_loader_rejects_a_question_with_two_correct_choices():
    data = {
        "slug": "bad",
        "choices": [{"text": "a", "is_correct": True, "explanation": "x"}] * 2
        + [{"text": "b", "is_correct": False, "explanation": "y"}] * 2,
    }
    with pytest.raises(loader.ContentError, match="2 correct"):
        loader.validate_question_data(data)


def test_database_refuses_a_second_correct_choice(quiz):
    question = quiz.questions.first()
    wrong = question.choices.filter(is_correct=False).first()
    wrong.is_correct = True
    with pytest.raises(IntegrityError), transaction.atomic():
        wrong.save()


def test_start_draws_five_questions_from_different_topics_with_shuffled_choices(quiz, student):
    attempt = services.attempt_start(user=student, quiz=quiz, rng=random.Random(1))
    slots = list(attempt.slots.select_related("question"))
    assert len(slots) == 5
    assert sorted(s.position for s in slots) == [1, 2, 3, 4, 5]
    assert len({s.question.topic for s in slots}) == 5
    for slot in slots:
        assert sorted(slot.choice_order) == sorted(
            slot.question.choices.values_list("pk", flat=True)
        )


def test_start_twice_returns_the_same_open_attempt(quiz, student):
    first = services.attempt_start(user=student, quiz=quiz)
    second = services.attempt_start(user=student, quiz=quiz)
    assert first.pk == second.pk
    assert Attempt.objects.filter(user=student).count() == 1


def test_database_refuses_a_second_open_attempt(attempt):
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(user=attempt.user, quiz=attempt.quiz, number=2)


def test_submit_four_of_five_passes_and_marks_the_section_done(attempt, student):
    graded = services.attempt_submit(attempt=attempt, answers=service_answers(attempt, 4))
    assert (graded.score, graded.passed) == (4, True)
    assert graded.duration is not None and graded.submitted_at is not None
    assert Answer.objects.filter(attempt=attempt).count() == 5
    assert Answer.objects.filter(attempt=attempt, is_correct=True).count() == 4
    section = Section.objects.get(url_name="quiz:quiz")
    assert SectionProgress.objects.get(user=student, section=section).done_at is not None


def test_submit_three_of_five_fails_and_leaves_the_section_open(attempt, student):
    graded = services.attempt_submit(attempt=attempt, answers=service_answers(attempt, 3))
    assert (graded.score, graded.passed) == (3, False)
    section = Section.objects.get(url_name="quiz:quiz")
    assert not SectionProgress.objects.filter(
        user=student, section=section, done_at__isnull=False
    ).exists()


def test_submit_twice_grades_once(attempt):
    first = services.attempt_submit(attempt=attempt, answers=service_answers(attempt, 5))
    second = services.attempt_submit(attempt=attempt, answers=service_answers(attempt, 0))
    assert second.score == first.score == 5
    assert second.submitted_at == first.submitted_at
    assert Answer.objects.filter(attempt=attempt).count() == 5


def test_choice_from_another_question_is_rejected_and_nothing_is_written(attempt, quiz):
    answers = service_answers(attempt, 5)
    first, second = list(answers)[:2]
    answers[first] = answers[second]
    with pytest.raises(services.AnswerError):
        services.attempt_submit(attempt=attempt, answers=answers)
    attempt.refresh_from_db()
    assert attempt.submitted_at is None and attempt.score is None
    assert not Answer.objects.exists()


def test_nonexistent_choice_is_rejected(attempt):
    answers = service_answers(attempt, 5)
    answers[next(iter(answers))] = 10**9
    with pytest.raises(services.AnswerError):
        services.attempt_submit(attempt=attempt, answers=answers)
    assert not Answer.objects.exists()


def test_question_outside_the_attempt_is_rejected(attempt, quiz):
    answers = service_answers(attempt, 5)
    outside = quiz.questions.exclude(pk__in=answers).first()
    answers[outside.pk] = outside.choices.first().pk
    with pytest.raises(services.AnswerError):
        services.attempt_submit(attempt=attempt, answers=answers)
    assert not Answer.objects.exists()


def test_unanswered_questions_are_listed_and_nothing_is_graded(attempt):
    answers = service_answers(attempt, 5)
    slots = AttemptQuestion.objects.filter(attempt=attempt).order_by("position")
    answers[slots[1].question_id] = None
    answers[slots[3].question_id] = None
    with pytest.raises(services.UnansweredError) as caught:
        services.attempt_submit(attempt=attempt, answers=answers)
    assert caught.value.positions == [2, 4]
    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    assert not Answer.objects.exists()


def test_retake_after_submitting_starts_attempt_two(attempt, quiz, student):
    services.attempt_submit(attempt=attempt, answers=service_answers(attempt, 1))
    retake = services.attempt_start(user=student, quiz=quiz)
    assert retake.pk != attempt.pk
    assert retake.number == 2
    assert retake.submitted_at is None


def test_demo_populate_gives_a_spread_and_is_idempotent(quiz, classroom, make_user):
    students = [make_user(f"demo{n}") for n in range(40)]
    out = io.StringIO()
    demo.demo_populate(classroom=classroom, students=students, rng=random.Random(3), stdout=out)
    attempts = Attempt.objects.filter(quiz=quiz)
    count = attempts.count()
    assert count > 20
    scores = set(attempts.values_list("score", flat=True))
    assert len(scores) >= 4
    assert attempts.filter(passed=True).exists() and attempts.filter(passed=False).exists()
    assert Answer.objects.filter(attempt__quiz=quiz).count() == count * 5
    demo.demo_populate(classroom=classroom, students=students, rng=random.Random(4), stdout=out)
    assert Attempt.objects.filter(quiz=quiz).count() == count
