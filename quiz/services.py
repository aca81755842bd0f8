"""Writes for the quiz: starting an attempt and grading it (once)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from courseware.models import Section
from courseware.numbers import parse_int
from courseware.plugins import app_hooks
from courseware.services import progress_mark_done

from .draw import draw_questions, shuffled
from .grading import score_attempt
from .models import Answer, Attempt, AttemptQuestion, Choice, Question, Quiz

QUIZ_URL_NAME = "quiz:quiz"

# Attempts draw with the system's randomness; tests and demo data pass their own rng.
_system_rng = random.SystemRandom()


class QuizUnavailableError(ValidationError):
    """The quiz cannot start an attempt (its active bank is too small)."""


class AnswerError(ValidationError):
    """A submission that does not fit the attempt (tampered or malformed ids)."""


class UnansweredError(ValidationError):
    """Some questions have no answer; `positions` says which (1-based)."""

    def __init__(self, positions: list[int]):
        self.positions = positions
        listed = ", ".join(str(p) for p in positions)
        noun = "Question" if len(positions) == 1 else "Questions"
        super().__init__(f"{noun} {listed} not answered yet. Nothing was graded.")


@transaction.atomic
def attempt_start(
    *, user: AbstractBaseUser, quiz: Quiz, rng: random.Random | None = None
) -> Attempt:
    """The learner's attempt in progress, or a new one with its questions drawn.

    Starting twice (two tabs, a double click) returns the same open attempt: the
    database allows one unsubmitted attempt per learner and quiz.
    """
    existing = Attempt.objects.filter(user=user, quiz=quiz, submitted_at__isnull=True).first()
    if existing is not None:
        return existing
    rng = rng or _system_rng
    by_topic: dict[str, list[int]] = defaultdict(list)
    for question_id, topic in Question.objects.filter(quiz=quiz, is_active=True).values_list(
        "pk", "topic"
    ):
        by_topic[topic].append(question_id)
    available = sum(len(ids) for ids in by_topic.values())
    if available < quiz.questions_per_attempt:
        raise QuizUnavailableError(
            f"This quiz cannot start: it needs {quiz.questions_per_attempt} questions and "
            f"only {available} are active. Please tell your instructor; nothing was saved."
        )
    drawn = draw_questions(by_topic, quiz.questions_per_attempt, rng)
    choices: dict[int, list[int]] = defaultdict(list)
    for choice_id, question_id in (
        Choice.objects.filter(question_id__in=drawn).order_by("pk").values_list("pk", "question_id")
    ):
        choices[question_id].append(choice_id)
    number = (Attempt.objects.filter(user=user, quiz=quiz).aggregate(n=Max("number"))["n"] or 0) + 1
    attempt = Attempt(user=user, quiz=quiz, number=number, started_at=timezone.now())
    attempt.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            attempt.save()
    except IntegrityError:
        # Another request opened one between our check and our insert: use it.
        return Attempt.objects.get(user=user, quiz=quiz, submitted_at__isnull=True)
    AttemptQuestion.objects.bulk_create(
        AttemptQuestion(
            attempt=attempt,
            question_id=question_id,
            position=position,
            choice_order=shuffled(choices[question_id], rng),
        )
        for position, question_id in enumerate(drawn, start=1)
    )
    return attempt


def answers_parse(data: Mapping[str, str], *, attempt: Attempt) -> dict[int, int | None]:
    """Read the attempt form into {question id: choice id or None}.

    The form never shows choice ids (in a bank whose key was entered first they would
    give the answer away): field `q<position>` carries the 1-based index of the
    choice in the order this attempt shows. Anything else — an unknown position, an
    index out of range, a value that is not a whole number — is tampering:
    AnswerError, and nothing is graded.
    """
    slots = {
        slot.position: slot
        for slot in AttemptQuestion.objects.filter(attempt=attempt).only(
            "position", "question_id", "choice_order"
        )
    }
    answers: dict[int, int | None] = {slot.question_id: None for slot in slots.values()}
    for key in data:
        if not key.startswith("q"):
            continue
        raw_position, raw_index = key[1:], data[key].strip()
        position = parse_int(raw_position, max_digits=4)
        slot = slots.get(position) if position is not None else None
        if slot is None:
            raise AnswerError(
                "The form names a question that is not in this attempt. Nothing was graded."
            )
        if hasattr(data, "getlist") and len(data.getlist(key)) > 1:
            raise AnswerError(
                f"Question {slot.position} was answered more than once. Nothing was graded."
            )
        index = parse_int(raw_index, max_digits=4, minimum=1, maximum=len(slot.choice_order))
        if index is None:
            raise AnswerError(
                f"The answer to question {slot.position} is not one of its choices. Nothing was graded."
            )
        answers[slot.question_id] = slot.choice_order[index - 1]
    return answers


@transaction.atomic
def attempt_submit(*, attempt: Attempt, answers: Mapping[int, int | None]) -> Attempt:
    """Grade an attempt, exactly once.

    The attempt row is locked (SELECT … FOR UPDATE), so of two concurrent submits one
    grades and the other waits, then finds the attempt graded and returns it as it is
    (a replayed or double submit shows the same result). Raises AnswerError for a
    choice that is not one of its question's, UnansweredError if any question has no
    answer; either way nothing is written.
    """
    locked = (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("quiz", "user")
        .get(pk=attempt.pk)
    )
    if locked.is_submitted:
        return locked
    slots = list(AttemptQuestion.objects.filter(attempt=locked).order_by("position"))
    position = {slot.question_id: slot.position for slot in slots}
    unknown = [question_id for question_id in answers if question_id not in position]
    if unknown:
        raise AnswerError(
            "An answer names a question that is not in this attempt. Nothing was graded."
        )
    chosen = {qid: cid for qid, cid in answers.items() if cid is not None}
    choice_rows = {
        pk: (question_id, is_correct)
        for pk, question_id, is_correct in Choice.objects.filter(
            pk__in=chosen.values()
        ).values_list("pk", "question_id", "is_correct")
    }
    for question_id, choice_id in chosen.items():
        if choice_rows.get(choice_id, (None,))[0] != question_id:
            raise AnswerError(
                f"The answer to question {position[question_id]} is not one of its choices. "
                "Nothing was graded."
            )
    missing = sorted(position[qid] for qid in position if qid not in chosen)
    if missing:
        raise UnansweredError(missing)
    key = dict(
        Choice.objects.filter(question_id__in=position, is_correct=True).values_list(
            "question_id", "pk"
        )
    )
    result = score_attempt(chosen, key, locked.quiz.pass_mark)
    Answer.objects.bulk_create(
        Answer(
            attempt=locked,
            question_id=question_id,
            choice_id=choice_id,
            is_correct=result.per_question[question_id],
        )
        for question_id, choice_id in chosen.items()
    )
    now = timezone.now()
    locked.submitted_at = now
    locked.score = result.score
    locked.passed = result.passed
    locked.duration = now - locked.started_at
    locked.save(update_fields=["submitted_at", "score", "passed", "duration"])
    if result.passed:
        section = Section.objects.filter(
            module_id=locked.quiz.module_id, url_name=QUIZ_URL_NAME
        ).first()
        if section is not None:
            progress_mark_done(user=locked.user, section=section)
    # Apps that report scores elsewhere (an LMS's gradebook) record them in this
    # transaction, so a graded attempt never lacks its report (courseware.plugins).
    for _, hook in app_hooks("attempt_graded"):
        hook(attempt=locked)
    return locked
