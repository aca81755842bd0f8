"""The quiz on the module overview and the instructor's class page (courseware.plugins)."""

from __future__ import annotations

from django.db.models import Count, Exists, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from courseware.plugins import ClassLink, Panel, RosterColumn

from . import catalog, selectors
from .models import Attempt, Quiz


def overview_panels(*, user, module) -> list[Panel]:
    """Best and latest score on the module overview (one query; none if no quiz)."""
    quiz = catalog.bank().quizzes.get(module.pk)
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


def done_by_activity() -> dict[str, str]:
    # Only passing marks the quiz done; the pager says so instead of offering "Done".
    return {"quiz:quiz": "Passing the quiz marks this section done."}
