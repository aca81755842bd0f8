"""The quiz's hooks (see courseware.plugins): content, demo attempts, overview panel."""

from __future__ import annotations

import json
import math
import zlib
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from courseware.models import Module
from courseware.plugins import ClassLink, Panel, RosterColumn

from . import selectors
from .draw import draw_questions, shuffled
from .grading import DEFAULT_PASS_MARK, QUESTIONS_PER_ATTEMPT
from .models import Answer, Attempt, AttemptQuestion, Choice, Question, Quiz

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
    stdout.write(f"quiz: {made} new quiz rows.")


def overview_panels(*, user, module) -> list[Panel]:
    """Best and latest score on the module overview (two queries, one if no quiz)."""
    quiz = Quiz.objects.filter(module=module).first()
    if quiz is None or not user.is_authenticated:
        return []
    summary = selectors.score_summary(user=user, quiz=quiz)
    return [Panel("quiz/panel.html", {"quiz": quiz, "module": module, "summary": summary})]


def roster_columns(*, classroom) -> list[RosterColumn]:
    """Best and latest score, passed, attempts: one subquery each, no extra query.

    The course's quiz is itself a subquery (PostgreSQL evaluates it once), so the
    hook costs nothing until the roster query runs.
    """
    quiz_id = (
        Quiz.objects.filter(module__course_id=classroom.course_id)
        .order_by("module__number")
        .values("pk")[:1]
    )
    mine = Attempt.objects.submitted().filter(quiz=Subquery(quiz_id), user=OuterRef("pk"))
    per_user = mine.order_by().values("user")
    return [
        RosterColumn(
            "quiz_best", "Best quiz score", Subquery(per_user.annotate(m=Max("score")).values("m"))
        ),
        RosterColumn(
            "quiz_latest",
            "Latest quiz score",
            Subquery(mine.order_by("-number").values("score")[:1]),
        ),
        RosterColumn("quiz_passed", "Quiz passed", Exists(mine.filter(passed=True)), kind="bool"),
        RosterColumn(
            "quiz_attempt_count",
            "Quiz attempts",
            Coalesce(Subquery(per_user.annotate(n=Count("pk")).values("n")), 0),
        ),
    ]


def class_links(*, classroom) -> list[ClassLink]:
    return [
        ClassLink(
            "Quiz analytics",
            reverse("quiz:class", kwargs={"pk": classroom.pk}),
            "score distribution, pass rate, attempts, and how each question performs",
        )
    ]


# ----------------------------------------------------------------------- demo data

# The demo's "faulty-looking" question: strong students talk themselves into the
# second-best choice, so it discriminates negatively in the class view.
DEMO_TRICKY_SLUG = "reward-model-loss"
DEMO_HARD_SLUGS = {"post-training-compute": 1.2, "labeler-agreement": 0.8, "dpo-beta": 0.6}


def demo_populate(*, classroom, students, rng, stdout) -> None:
    """Give most demo students one to three submitted attempts with a believable spread.

    A student's ability and a question's difficulty set the chance of a right answer
    (a logistic model); one question is keyed so that strong students miss it.
    Students who already have an attempt are left alone, so a re-run adds nothing.
    """
    quiz = Quiz.objects.filter(module__course=classroom.course).first()
    if quiz is None:
        return
    questions = list(Question.objects.filter(quiz=quiz, is_active=True))
    if len(questions) < quiz.questions_per_attempt:
        return
    choices: dict[int, list[Choice]] = {}
    for choice in Choice.objects.filter(question__in=questions).order_by("pk"):
        choices.setdefault(choice.question_id, []).append(choice)
    by_topic: dict[str, list[int]] = {}
    for question in questions:
        by_topic.setdefault(question.topic, []).append(question.pk)
    slug_of = {question.pk: question.slug for question in questions}
    done = set(
        Attempt.objects.filter(quiz=quiz, user__in=students).values_list("user_id", flat=True)
    )
    plans = []  # (attempt, [(question_id, order, choice)])
    now = timezone.now()
    for student in students:
        # About one in five has not reached the quiz; decided by name, not by the rng,
        # so that a re-run with another seed does not give them attempts after all.
        if student.pk in done or zlib.crc32(student.get_username().encode()) % 5 == 0:
            continue
        ability = rng.gauss(0.8, 1.0)
        for number in range(1, rng.randint(1, 3) + 1):
            drawn = draw_questions(by_topic, quiz.questions_per_attempt, rng)
            picks = []
            for question_id in drawn:
                options = choices[question_id]
                right = next(c for c in options if c.is_correct)
                wrong = [c for c in options if not c.is_correct]
                if slug_of[question_id] == DEMO_TRICKY_SLUG:
                    # Strong students fall for the same distractor; weak ones guess.
                    p_right = 0.75 if ability < 0.5 else 0.25
                    choice = right if rng.random() < p_right else wrong[0]
                else:
                    difficulty = DEMO_HARD_SLUGS.get(slug_of[question_id], -0.6)
                    learning = 0.4 * (number - 1)
                    p_right = 1 / (1 + math.exp(-(ability + learning - difficulty)))
                    choice = right if rng.random() < p_right else rng.choice(wrong)
                order = shuffled([c.pk for c in options], rng)
                picks.append((question_id, order, choice))
            score = sum(choice.is_correct for _, _, choice in picks)
            started = now - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
            duration = timedelta(seconds=rng.randint(90, 900))
            attempt = Attempt(
                user=student,
                quiz=quiz,
                number=number,
                started_at=started,
                submitted_at=started + duration,
                duration=duration,
                score=score,
                passed=score >= quiz.pass_mark,
            )
            plans.append((attempt, picks))
            if score >= quiz.pass_mark:
                break
    with transaction.atomic():
        Attempt.objects.bulk_create([attempt for attempt, _ in plans])
        AttemptQuestion.objects.bulk_create(
            AttemptQuestion(attempt=attempt, question_id=qid, position=pos, choice_order=order)
            for attempt, picks in plans
            for pos, (qid, order, _) in enumerate(picks, start=1)
        )
        Answer.objects.bulk_create(
            Answer(attempt=attempt, question_id=qid, choice=choice, is_correct=choice.is_correct)
            for attempt, picks in plans
            for qid, _, choice in picks
        )
    stdout.write(f"quiz: {len(plans)} demo attempts.")


def done_by_activity() -> dict[str, str]:
    # Only passing marks the quiz done; the pager says so instead of offering "Done".
    return {"quiz:quiz": "Passing the quiz marks this section done."}
