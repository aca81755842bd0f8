"""The quiz bank, kept in process memory per content version (see courseware.content):
every quiz with its questions and choices, read in three queries per version."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from courseware.content import content_accessor

from .models import Choice, Question, Quiz


@dataclass(frozen=True)
class Bank:
    quizzes: dict[int, Quiz]  # by module id
    questions: dict[int, Question]  # by id; each has `choice_list` in order
    choices: dict[int, Choice]  # by id


@content_accessor
def bank() -> Bank:
    quizzes = {quiz.module_id: quiz for quiz in Quiz.objects.all()}
    questions = {}
    for question in Question.objects.all():
        question.choice_list = []
        questions[question.pk] = question
    choices = {}
    for choice in Choice.objects.order_by("question_id", "order"):
        choice.question = questions[choice.question_id]
        choice.question.choice_list.append(choice)
        choices[choice.pk] = choice
    return Bank(quizzes=quizzes, questions=questions, choices=choices)


def quiz_for_module(module_id: int) -> Quiz:
    quiz = bank().quizzes.get(module_id)
    if quiz is None:
        raise Http404("This module has no quiz.")
    return quiz
