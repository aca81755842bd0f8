"""The quiz's content loader (see courseware.plugins): quizzes and their question banks,
from quiz/content/*.json."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from courseware import content
from courseware.models import Module

from .grading import DEFAULT_PASS_MARK, QUESTIONS_PER_ATTEMPT
from .models import Choice, Question, Quiz

CONTENT_DIR = Path(__file__).resolve().parent / "content"
CHOICES_PER_QUESTION = 4


class ContentError(ValueError):
    pass


def validate_question_data(data: dict) -> None:
    """A shipped question must have 4 choices, exactly one correct, each explained."""
    choices = data.get("choices", [])
    where = f"question {data.get('slug')!r}"
    if len(choices) != CHOICES_PER_QUESTION:
        raise ContentError(f"{where}: {len(choices)} choices, expected {CHOICES_PER_QUESTION}")
    correct = sum(bool(choice.get("is_correct")) for choice in choices)
    if correct != 1:
        raise ContentError(f"{where}: {correct} correct choices, expected exactly 1")
    if not all(choice.get("text") and choice.get("explanation") for choice in choices):
        raise ContentError(f"{where}: every choice needs a text and an explanation")


def validate_quiz_data(data: dict) -> None:
    """Enough questions for one attempt, and a pass mark an attempt can reach."""
    quiz = data.get("quiz", {})
    needed = quiz.get("questions_per_attempt", QUESTIONS_PER_ATTEMPT)
    pass_mark = quiz.get("pass_mark", DEFAULT_PASS_MARK)
    active = sum(question.get("is_active", True) for question in data.get("questions", []))
    if active < needed:
        raise ContentError(
            f"quiz {quiz.get('title')!r}: {active} active questions, each attempt draws {needed}"
        )
    if not 0 <= pass_mark <= needed:
        raise ContentError(f"quiz {quiz.get('title')!r}: pass mark {pass_mark} is above {needed}")


@transaction.atomic
def load_content(*, stdout) -> None:
    """Create the quiz and any question that is missing; never overwrite existing rows,
    so admin edits survive and a second run creates nothing."""
    made = 0
    for path in sorted(CONTENT_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for question in data["questions"]:
            validate_question_data(question)
        validate_quiz_data(data)
        module = Module.objects.get(course__slug=data["course"], slug=data["module"])
        quiz, created = Quiz.objects.get_or_create(module=module, defaults=data["quiz"])
        made += created
        for question_data in data["questions"]:
            fields = {k: v for k, v in question_data.items() if k not in {"slug", "choices"}}
            question, created = Question.objects.get_or_create(
                quiz=quiz, slug=question_data["slug"], defaults=fields
            )
            if created:
                made += 1
                Choice.objects.bulk_create(
                    Choice(question=question, order=order, **choice)
                    for order, choice in enumerate(question_data["choices"], start=1)
                )
    content.bump()  # bulk-created choices send no signal
    stdout.write(f"quiz: {made} new quiz rows.")
