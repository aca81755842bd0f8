"""Quiz fixtures: the shipped quiz, an attempt in progress, and forms that answer it."""

from __future__ import annotations

import random

import pytest

from quiz import services
from quiz.models import Attempt, AttemptQuestion, Choice, Quiz


@pytest.fixture
def quiz(content) -> Quiz:
    return Quiz.objects.get(module=content)


@pytest.fixture
def attempt(quiz, student) -> Attempt:
    return services.attempt_start(user=student, quiz=quiz, rng=random.Random(5))


def answer_key(attempt: Attempt) -> dict[int, tuple[int, int]]:
    """{position: (index of the right choice, index of a wrong one)} for the form."""
    key = {}
    for slot in AttemptQuestion.objects.filter(attempt=attempt):
        correct = Choice.objects.get(question_id=slot.question_id, is_correct=True).pk
        right = slot.choice_order.index(correct) + 1
        wrong = next(i for i in range(1, len(slot.choice_order) + 1) if i != right)
        key[slot.position] = (right, wrong)
    return key


def form_with(attempt: Attempt, right: int, *, skip: tuple[int, ...] = ()) -> dict[str, str]:
    """A POST body answering the first `right` questions correctly, the rest wrongly."""
    data = {}
    for position, (right_index, wrong_index) in sorted(answer_key(attempt).items()):
        if position in skip:
            continue
        data[f"q{position}"] = str(right_index if position <= right else wrong_index)
    return data


def service_answers(attempt: Attempt, right: int) -> dict[int, int]:
    """{question id: choice id} answering the first `right` positions correctly."""
    answers = {}
    for slot in AttemptQuestion.objects.filter(attempt=attempt).order_by("position"):
        choices = Choice.objects.filter(question_id=slot.question_id)
        pick = choices.filter(is_correct=slot.position <= right).first()
        answers[slot.question_id] = pick.pk
    return answers
