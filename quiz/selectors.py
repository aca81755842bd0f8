"""Reads for the quiz pages. Each costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404

from courseware.models import Classroom, Enrollment, Module

from . import catalog, grading
from .models import Answer, Attempt, AttemptQuestion, Choice, Question, Quiz

RECENT_ATTEMPTS = 10


def quiz_for_module(*, module: Module) -> Quiz:
    return catalog.quiz_for_module(module.pk)


def attempt_for_user(*, user: AbstractBaseUser, quiz: Quiz, pk: int) -> Attempt:
    """The learner's own attempt; anybody else's is a 404, so ids reveal nothing."""
    attempt = Attempt.objects.filter(pk=pk, quiz=quiz, user=user).first()
    if attempt is None:
        raise Http404("No such attempt.")
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
    """Best and latest score, the attempt in progress, recent attempts: one query (a
    learner's attempts at one quiz are few)."""
    if not user.is_authenticated:
        return ScoreSummary(None, None, None, 0, [], False)
    attempts = list(
        Attempt.objects.filter(user=user, quiz=quiz)
        .only("number", "submitted_at", "score", "passed", "duration", "quiz_id", "user_id")
        .order_by("-number")
    )
    # An attempt in progress always has the highest number: none can start while it is open.
    open_attempt = attempts[0] if attempts and not attempts[0].is_submitted else None
    submitted = [attempt for attempt in attempts if attempt.is_submitted]
    return ScoreSummary(
        best=max((a.score for a in submitted), default=None),
        latest=submitted[0] if submitted else None,
        open_attempt=open_attempt,
        submitted_count=len(submitted),
        recent=submitted[:RECENT_ATTEMPTS],
        passed_ever=any(a.passed for a in submitted),
    )


def _slots(*, user: AbstractBaseUser, quiz: Quiz, pk: int) -> list[AttemptQuestion]:
    """The learner's own attempt's questions in order, each with its attempt row; any
    other attempt is a 404, so ids reveal nothing. One query."""
    answer = Answer.objects.filter(attempt=OuterRef("attempt_id"), question=OuterRef("question_id"))
    slots = list(
        AttemptQuestion.objects.filter(attempt_id=pk, attempt__user=user, attempt__quiz=quiz)
        .select_related("attempt")
        .annotate(
            chosen_id=Subquery(answer.values("choice_id")[:1]),
            answered_right=Subquery(answer.values("is_correct")[:1]),
        )
        .order_by("position")
    )
    if not slots:
        raise Http404("No such attempt.")
    for slot in slots:
        slot.attempt.quiz = quiz
    return slots


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


def attempt_questions(
    *, user: AbstractBaseUser, quiz: Quiz, pk: int
) -> tuple[Attempt, list[ShownQuestion]]:
    """The attempt and its questions in its order, choices in its shuffled order: one
    query. Only choice ids and texts are passed on, so neither the key nor an
    explanation can reach the page by a template slip."""
    slots = _slots(user=user, quiz=quiz, pk=pk)
    bank = catalog.bank()
    shown = []
    for slot in slots:
        question = bank.questions[slot.question_id]
        shown.append(
            ShownQuestion(
                position=slot.position,
                question_id=slot.question_id,
                text=question.text,
                choices=[
                    ShownChoice(pk=pk, index=index, text=bank.choices[pk].text)
                    for index, pk in enumerate(slot.choice_order, start=1)
                    if pk in bank.choices
                ],
            )
        )
    return slots[0].attempt, shown


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


def attempt_result(
    *, user: AbstractBaseUser, quiz: Quiz, pk: int
) -> tuple[Attempt, list[ResultQuestion]]:
    """A graded attempt, question by question, with the key and every explanation: one
    query (the slots with their answers); the bank comes from the catalog."""
    slots = _slots(user=user, quiz=quiz, pk=pk)
    bank = catalog.bank()
    result = []
    for slot in slots:
        question = bank.questions[slot.question_id]
        by_pk = {choice.pk: choice for choice in question.choice_list}
        ordered = [by_pk[pk] for pk in slot.choice_order if pk in by_pk]
        ordered += [choice for pk, choice in by_pk.items() if pk not in slot.choice_order]
        result.append(
            ResultQuestion(
                position=slot.position,
                text=question.text,
                choices=[ResultChoice(choice=c, chosen=c.pk == slot.chosen_id) for c in ordered],
                correct=bool(slot.answered_right),
                chosen=by_pk.get(slot.chosen_id),
                right=next((c for c in ordered if c.is_correct), None),
            )
        )
    return slots[0].attempt, result


# ------------------------------------------------------------------ class analytics
#
# The instructor's view of one class. Every figure comes from a fixed number of
# queries whatever the size of the class: student-level figures from one GROUP BY
# over the enrolled students, item figures from one GROUP BY over the answers and
# one array query for discrimination. Item statistics use each learner's FIRST
# submitted attempt: later attempts come after the learner has read every
# explanation, so they measure the feedback more than the question.


def quiz_for_course(*, course_id: int) -> Quiz | None:
    """The course's quiz (the first module's, if several modules have one), from the
    catalogs: no query."""
    from courseware.catalog import course_catalog

    quizzes = catalog.bank().quizzes
    for course in course_catalog().courses:
        if course.pk != course_id:
            continue
        for module in course.module_list:
            if module.pk in quizzes:
                quiz = quizzes[module.pk]
                quiz.module = module
                return quiz
    return None


def class_attempts(*, classroom: Classroom, quiz: Quiz) -> QuerySet[Attempt]:
    """Submitted attempts at `quiz` by the students of `classroom`."""
    enrolled = Enrollment.objects.filter(classroom=classroom, student=OuterRef("user_id"))
    return Attempt.objects.submitted().filter(Exists(enrolled), quiz=quiz)


@dataclass(frozen=True)
class HistogramRow:
    score: int
    first: int  # learners whose first attempt scored this
    best: int  # learners whose best attempt scored this
    first_share: float
    best_share: float
    passing: bool


@dataclass(frozen=True)
class AttemptsRow:
    attempts: int
    students: int
    share: float


@dataclass(frozen=True)
class ItemRow:
    question: Question
    stats: grading.ItemStats
    choices: list[tuple[Choice, int]]  # every choice with how often first attempts chose it
    wrong_choice: Choice | None  # the most chosen wrong answer


@dataclass(frozen=True)
class ClassQuizAnalytics:
    quiz: Quiz
    total: int  # questions per attempt (the histogram's top score)
    enrolled: int
    attempted: int
    passed: int
    pass_rate: float | None  # of the learners who attempted
    pass_rate_enrolled: float | None
    attempts_total: int
    histogram: list[HistogramRow]
    attempts: list[AttemptsRow]
    items: list[ItemRow]

    @property
    def flagged(self) -> list[ItemRow]:
        return [item for item in self.items if item.stats.flags]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _student_groups(*, classroom: Classroom, quiz: Quiz) -> list[dict]:
    """(attempts, best, passed) → students, in one query: each enrolled student's
    submitted attempts aggregated in a join, then those rows grouped again in SQL.

    (Correlated subqueries per student planned badly once PostgreSQL had statistics
    for a big class: 220 ms for 10,000 students; the join and the outer GROUP BY take
    ~10 ms.)"""
    from django.contrib.auth import get_user_model

    submitted = Q(quiz_attempts__quiz=quiz, quiz_attempts__submitted_at__isnull=False)
    per_student = (
        get_user_model()
        .objects.filter(enrollments__classroom=classroom)
        .order_by()
        .values("pk")
        .annotate(
            n_attempts=Count("quiz_attempts", filter=submitted),
            best=Max("quiz_attempts__score", filter=submitted),
            passed_ever=Max(
                Case(When(quiz_attempts__passed=True, then=Value(1)), default=Value(0)),
                filter=submitted,
            ),
        )
        .values_list("n_attempts", "best", "passed_ever")
    )
    inner, params = per_student.query.sql_with_params()
    # The inner SQL is the ORM's own, its values bound as parameters.
    outer = "SELECT n_attempts, best, passed_ever, COUNT(*) FROM ({}) AS per_student "
    sql = outer.format(inner) + "GROUP BY n_attempts, best, passed_ever"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        {"n_attempts": n, "best": best, "passed_ever": bool(passed), "students": students}
        for n, best, passed, students in rows
    ]


def class_quiz_analytics(*, classroom: Classroom, quiz: Quiz) -> ClassQuizAnalytics:
    """Every figure of the class quiz page in four queries, for 3 or 10,000 students."""
    groups = _student_groups(classroom=classroom, quiz=quiz)
    firsts = class_attempts(classroom=classroom, quiz=quiz).filter(number=1)
    first_scores = dict(
        firsts.order_by().values("score").annotate(n=Count("pk")).values_list("score", "n")
    )
    first_answers = Answer.objects.filter(attempt__in=firsts.values("pk"))
    # One pass over the first attempts' answers, grouped by (question, choice, right or
    # wrong, the attempt's score): at most choices x scores rows, whatever the class
    # size. It gives both the choice counts and the (question, correct, score) groups
    # the item statistics need; those do not depend on row order (ties share group
    # slots), so repeating each group n times gives the figures of per-answer arrays.
    grouped = list(
        first_answers.order_by()
        .values("question_id", "choice_id", "is_correct", "attempt__score")
        .annotate(n=Count("pk"))
        .values_list("question_id", "choice_id", "is_correct", "attempt__score", "n")
    )
    choice_counts: dict[tuple[int, int], int] = {}
    answer_groups: dict[tuple[int, bool, int], int] = {}
    for question_id, choice_id, is_correct, score, n in grouped:
        choice_counts[question_id, choice_id] = choice_counts.get((question_id, choice_id), 0) + n
        key = (question_id, is_correct, score)
        answer_groups[key] = answer_groups.get(key, 0) + n
    rows = [(*key, n) for key, n in answer_groups.items()]
    choices = list(
        Choice.objects.filter(question__quiz=quiz)
        .select_related("question")
        .order_by("question__order", "order")
    )

    best_counts: dict[int, int] = {}
    attempts_counts: dict[int, int] = {}
    enrolled = attempted = passed = attempts_total = 0
    for group in groups:
        n = group["students"]
        enrolled += n
        attempts_counts[group["n_attempts"]] = attempts_counts.get(group["n_attempts"], 0) + n
        attempts_total += group["n_attempts"] * n
        if group["best"] is not None:
            attempted += n
            best_counts[group["best"]] = best_counts.get(group["best"], 0) + n
        if group["passed_ever"]:
            passed += n

    # Scores above today's questions_per_attempt (an admin changed it) still count.
    total = max([quiz.questions_per_attempt, *best_counts, *first_scores])
    first_hist = grading.score_histogram_from_counts(first_scores, total)
    best_hist = grading.score_histogram_from_counts(best_counts, total)
    n_first = sum(first_hist)
    histogram = [
        HistogramRow(
            score=score,
            first=first_hist[score],
            best=best_hist[score],
            first_share=_share(first_hist[score], n_first),
            best_share=_share(best_hist[score], attempted),
            passing=score >= quiz.pass_mark,
        )
        for score in range(total, -1, -1)
    ]
    attempts = [
        AttemptsRow(attempts=k, students=n, share=_share(n, enrolled))
        for k, n in sorted(attempts_counts.items())
    ]
    return ClassQuizAnalytics(
        quiz=quiz,
        total=total,
        enrolled=enrolled,
        attempted=attempted,
        passed=passed,
        pass_rate=passed / attempted if attempted else None,
        pass_rate_enrolled=passed / enrolled if enrolled else None,
        attempts_total=attempts_total,
        histogram=histogram,
        attempts=attempts,
        items=_item_rows(
            choices=choices,
            choice_counts=[(q, c, n) for (q, c), n in choice_counts.items()],
            rows=rows,
        ),
    )


def _item_rows(
    *,
    choices: list[Choice],
    choice_counts: Iterable[tuple[int, int, int]],
    rows: list[tuple[int, bool, int, int]],
) -> list[ItemRow]:
    """Per-question statistics from the grouped choice counts and the grouped answers
    (question, correct, attempt score, how many)."""
    counts: dict[int, dict[int, int]] = {}
    for question_id, choice_id, n in choice_counts:
        counts.setdefault(question_id, {})[choice_id] = n
    if rows:
        grouped = np.array(rows, dtype=np.int64)
        array = np.repeat(grouped[:, :3], grouped[:, 3], axis=0)
        question_ids, correct, totals = array[:, 0], array[:, 1], array[:, 2]
    else:
        question_ids = correct = totals = np.zeros(0, dtype=np.int64)
    by_question: dict[int, list[Choice]] = {}
    questions: dict[int, Question] = {}
    for choice in choices:
        by_question.setdefault(choice.question_id, []).append(choice)
        questions[choice.question_id] = choice.question
    items = []
    for question_id, question in questions.items():
        question_counts = counts.get(question_id, {})
        if not question_counts and not question.is_active:
            continue  # retired before anybody in this class met it
        shown = question_ids == question_id
        item_correct, item_totals = correct[shown], totals[shown]
        right = next((c for c in by_question[question_id] if c.is_correct), None)
        answered = sum(question_counts.values())
        right_count = question_counts.get(right.pk, 0) if right else 0
        facility = grading.facility_from_counts(right_count, answered)
        discrimination = grading.discrimination_upper_lower(item_totals, item_correct)
        wrong = grading.most_chosen_wrong_from_counts(question_counts, right.pk if right else None)
        choice_of = {c.pk: c for c in by_question[question_id]}
        items.append(
            ItemRow(
                question=question,
                stats=grading.ItemStats(
                    n_learners=answered,
                    facility=facility,
                    discrimination=discrimination,
                    point_biserial=grading.point_biserial(item_totals, item_correct),
                    most_chosen_wrong=wrong,
                    flags=grading.flag_item(facility, discrimination),
                ),
                choices=[(c, question_counts.get(c.pk, 0)) for c in by_question[question_id]],
                wrong_choice=choice_of.get(wrong[0]) if wrong else None,
            )
        )
    return items
