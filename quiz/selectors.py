"""Reads for the quiz pages. Each costs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Prefetch, Q
from django.shortcuts import get_object_or_404

from courseware.models import Module

from .models import Answer, Attempt, AttemptQuestion, Choice, Quiz

RECENT_ATTEMPTS = 10


def quiz_for_module(*, module: Module) -> Quiz:
    return get_object_or_404(Quiz, module=module)


def attempt_for_user(*, user: AbstractBaseUser, quiz: Quiz, pk: int) -> Attempt:
    """The learner's own attempt; anybody else's is a 404, so ids reveal nothing."""
    attempt = get_object_or_404(Attempt, pk=pk, quiz=quiz, user=user)
    attempt.quiz = quiz
    return attempt


@dataclass(frozen=True)
class ScoreSummary:
    best: int | None
    latest: Attempt | None
    open_attempt: Attempt | None
    submitted_count: int
    recent: list[Attempt]
    passed_ever: bool


def score_summary(*, user: AbstractBaseUser, quiz: Quiz) -> ScoreSummary:
    """Best and latest score, the attempt in progress, recent attempts: two queries."""
    if not user.is_authenticated:
        return ScoreSummary(None, None, None, 0, [], False)
    mine = Attempt.objects.filter(user=user, quiz=quiz)
    totals = mine.aggregate(
        best=Max("score"),
        submitted=Count("pk", filter=Q(submitted_at__isnull=False)),
        passes=Count("pk", filter=Q(passed=True)),
    )
    # An attempt in progress always has the highest number: none can start while it is open.
    recent = list(mine.order_by("-number")[:RECENT_ATTEMPTS])
    open_attempt = recent[0] if recent and not recent[0].is_submitted else None
    submitted = [attempt for attempt in recent if attempt.is_submitted]
    return ScoreSummary(
        best=totals["best"],
        latest=submitted[0] if submitted else None,
        open_attempt=open_attempt,
        submitted_count=totals["submitted"],
        recent=submitted,
        passed_ever=totals["passes"] > 0,
    )


@dataclass(frozen=True)
class ShownChoice:
    """A choice on the attempt page. The page shows `index` (its place in this
    attempt's shuffled order), never `pk`."""

    pk: int
    index: int
    text: str


@dataclass(frozen=True)
class ShownQuestion:
    """What the attempt page may show: no key, no explanations."""

    position: int
    question_id: int
    text: str
    choices: list[ShownChoice]


def attempt_questions(*, attempt: Attempt) -> list[ShownQuestion]:
    """The attempt's questions in its order, choices in its shuffled order.

    Only choice ids and texts are read from the database (`only`), so neither the
    key nor an explanation can reach the page by a template slip. Two queries.
    """
    slots = list(
        AttemptQuestion.objects.filter(attempt=attempt)
        .select_related("question")
        .only("position", "choice_order", "question__id", "question__text")
        .order_by("position")
    )
    texts = dict(
        Choice.objects.filter(question_id__in=[slot.question_id for slot in slots]).values_list(
            "pk", "text"
        )
    )
    return [
        ShownQuestion(
            position=slot.position,
            question_id=slot.question_id,
            text=slot.question.text,
            choices=[
                ShownChoice(pk=pk, index=index, text=texts[pk])
                for index, pk in enumerate(slot.choice_order, start=1)
                if pk in texts
            ],
        )
        for slot in slots
    ]


@dataclass(frozen=True)
class ResultChoice:
    choice: Choice
    chosen: bool


@dataclass(frozen=True)
class ResultQuestion:
    position: int
    text: str
    choices: list[ResultChoice]
    correct: bool
    chosen: Choice | None
    right: Choice | None


def attempt_result(*, attempt: Attempt) -> list[ResultQuestion]:
    """A graded attempt, question by question, with the key and every explanation.

    Three queries: slots with questions, their choices, the answers.
    """
    slots = list(
        AttemptQuestion.objects.filter(attempt=attempt)
        .select_related("question")
        .prefetch_related(Prefetch("question__choices", queryset=Choice.objects.order_by("pk")))
        .order_by("position")
    )
    answers = {answer.question_id: answer for answer in Answer.objects.filter(attempt=attempt)}
    result = []
    for slot in slots:
        by_pk = {choice.pk: choice for choice in slot.question.choices.all()}
        ordered = [by_pk[pk] for pk in slot.choice_order if pk in by_pk]
        ordered += [choice for pk, choice in by_pk.items() if pk not in slot.choice_order]
        answer = answers.get(slot.question_id)
        chosen_id = answer.choice_id if answer else None
        result.append(
            ResultQuestion(
                position=slot.position,
                text=slot.question.text,
                choices=[ResultChoice(choice=c, chosen=c.pk == chosen_id) for c in ordered],
                correct=bool(answer and answer.is_correct),
                chosen=by_pk.get(chosen_id),
                right=next((c for c in ordered if c.is_correct), None),
            )
        )
    return result
