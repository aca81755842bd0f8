"""Quiz pages: landing, attempt, submit, result. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from courseware.http import HtmxHttpRequest, instructor_classroom, section_context

from . import grading, selectors, services
from .models import Attempt

URL_NAME = "quiz:quiz"


def _context(request: HtmxHttpRequest, course: str, module: str) -> dict:
    context = section_context(request, course=course, module=module, url_name=URL_NAME)
    context["quiz"] = selectors.quiz_for_module(module=context["module"])
    return context


def _attempt_url(name: str, context: dict, attempt: Attempt) -> str:
    module = context["module"]
    return reverse(
        f"quiz:{name}",
        kwargs={"course": module.course.slug, "module": module.slug, "pk": attempt.pk},
    )


@require_GET
@login_required
def quiz_detail(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = _context(request, course, module)
    context["summary"] = selectors.score_summary(user=request.user, quiz=context["quiz"])
    return render(request, "quiz/quiz.html", context)


@require_POST
@login_required
def attempt_start(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = _context(request, course, module)
    try:
        attempt = services.attempt_start(user=request.user, quiz=context["quiz"])
    except services.QuizUnavailableError as exc:
        # Not the learner's fault and not a crash: say what is wrong (409: the quiz's
        # state, not the request, is the problem).
        context["summary"] = selectors.score_summary(user=request.user, quiz=context["quiz"])
        context["error"] = exc.message
        return render(request, "quiz/quiz.html", context, status=409)
    return redirect(_attempt_url("attempt", context, attempt))


def _render_attempt(
    request: HtmxHttpRequest,
    context: dict,
    attempt: Attempt,
    *,
    status: int = 200,
    chosen: dict[int, int | None] | None = None,
    unanswered: list[int] | None = None,
    error: str = "",
) -> HttpResponse:
    chosen, unanswered = chosen or {}, unanswered or []
    attempt, questions = selectors.attempt_questions(
        user=request.user, quiz=context["quiz"], pk=attempt.pk
    )
    context.update(
        attempt=attempt,
        error=error,
        unanswered=unanswered,
        items=[
            {
                "question": question,
                "chosen": chosen.get(question.question_id),
                "missing": question.position in unanswered,
            }
            for question in questions
        ],
    )
    return render(request, "quiz/attempt.html", context, status=status)


@never_cache
@require_GET
@login_required
def attempt_detail(request: HtmxHttpRequest, course: str, module: str, pk: int) -> HttpResponse:
    context = _context(request, course, module)
    attempt, questions = selectors.attempt_questions(user=request.user, quiz=context["quiz"], pk=pk)
    if attempt.is_submitted:
        return redirect(_attempt_url("result", context, attempt))
    context.update(
        attempt=attempt,
        items=[{"question": q, "chosen": None, "missing": False} for q in questions],
    )
    return render(request, "quiz/attempt.html", context)


@require_POST
@login_required
def attempt_submit(request: HtmxHttpRequest, course: str, module: str, pk: int) -> HttpResponse:
    context = _context(request, course, module)
    attempt = selectors.attempt_for_user(user=request.user, quiz=context["quiz"], pk=pk)
    if attempt.is_submitted:  # a replayed submit: show the result it already has
        return redirect(_attempt_url("result", context, attempt))
    try:
        answers = services.answers_parse(request.POST, attempt=attempt)
        attempt = services.attempt_submit(attempt=attempt, answers=answers)
    except services.UnansweredError as exc:
        # Re-show the attempt with the learner's picks kept and the gaps named.
        return _render_attempt(
            request,
            context,
            attempt,
            status=400,
            chosen=answers,
            unanswered=exc.positions,
            error=exc.message,
        )
    except services.AnswerError as exc:
        context.update(attempt=attempt, error=exc.message)
        return render(request, "quiz/rejected.html", context, status=400)
    return redirect(_attempt_url("result", context, attempt))


@require_GET
@login_required
def attempt_result(request: HtmxHttpRequest, course: str, module: str, pk: int) -> HttpResponse:
    context = _context(request, course, module)
    attempt, results = selectors.attempt_result(user=request.user, quiz=context["quiz"], pk=pk)
    if not attempt.is_submitted:
        return redirect(_attempt_url("attempt", context, attempt))
    context.update(attempt=attempt, results=results)
    return render(request, "quiz/result.html", context)


@require_GET
@login_required
def class_analytics(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The class's quiz results for its instructors: aggregates only, no names."""
    classroom = instructor_classroom(request, pk)
    quiz = selectors.quiz_for_course(course_id=classroom.course_id)
    analytics = selectors.class_quiz_analytics(classroom=classroom, quiz=quiz) if quiz else None
    return render(
        request,
        "quiz/class.html",
        {"classroom": classroom, "quiz": quiz, "analytics": analytics, "grading": GRADING},
    )


# Thresholds named on the page, so the text and the flags cannot disagree.
GRADING = {
    "group_percent": round(grading.DEFAULT_GROUP_FRACTION * 100),
    "very_hard": grading.VERY_HARD_FACILITY,
    "very_easy": grading.VERY_EASY_FACILITY,
    "low_discrimination": grading.LOW_DISCRIMINATION,
}
