"""Labeling pages: the session, the reward profile, the policy, RLAIF, the exports."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from courseware import catalog as course_content
from courseware import csv_rows
from courseware.http import (
    HtmxHttpRequest,
    instructor_classroom,
    module_content,
    names_hidden,
    render_page,
    section_context,
)
from courseware.numbers import parse_int

from . import class_view, critique, exports, fits, policy, profile, rlaif, services, sessions


def _session_url(course: str, module: str, position: int | None = None) -> str:
    url = reverse("labeling:session", kwargs={"course": course, "module": module})
    return f"{url}?{urlencode({'pair': position})}" if position else url


def _error(
    request: HtmxHttpRequest,
    exc: services.LabelingError,
    *,
    course: str,
    module: str,
    back: str | None = None,
) -> HttpResponse:
    """A 4xx a person can read. htmx gets plain text that labeling.js puts in the
    page's alert region (htmx does not swap error responses)."""
    message = exc.messages[0]
    if request.htmx:
        return HttpResponse(message, status=exc.status, content_type="text/plain; charset=utf-8")
    context = {"message": message, "back": back or _session_url(course, module)}
    return render(request, "labeling/error.html", context, status=exc.status)


def _parse_int(raw: str | None, *, what: str) -> int:
    value = parse_int(raw)
    if value is None:
        raise services.LabelingError(f"That {what} is not valid.", code="bad_input")
    return value


def _position(raw: str | None) -> int | None:
    return parse_int(raw, max_digits=4) or None


@require_GET
@login_required
def session_page(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = section_context(request, course=course, module=module, url_name="labeling:session")
    state = sessions.session_latest(user=request.user)
    if state is None or state.session.is_finished:
        context["finished"] = state.session if state else None
        return render(request, "labeling/session.html", context)
    # An unknown ?pair= (tampered, or a pair removed since) falls back to where the
    # learner stopped; the review shows only once every pair has a pick.
    position = _position(request.GET.get("pair"))
    item = (state.item_at(position) if position else None) or state.first_unpicked()
    if item is None and not state.complete:
        item = state.items[0] if state.items else None
    context.update({"state": state, "item": item})
    return render(request, "labeling/session.html", context)


@require_POST
@login_required
def session_new(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    module_content(request, course, module)
    try:
        services.session_start(user=request.user)
    except services.LabelingError as exc:
        return _error(request, exc, course=course, module=module)
    return redirect(_session_url(course, module))


@require_POST
@vary_on_headers("HX-Request")
@login_required
def pick(request: HtmxHttpRequest, course: str, module: str, session: int) -> HttpResponse:
    content = module_content(request, course, module)
    session_obj = sessions.session_for_user(user=request.user, pk=session)
    try:
        if len(request.POST.getlist("pair")) > 1 or len(request.POST.getlist("side")) > 1:
            # A form sends one pair and one side; two is a tampered or garbled request.
            raise services.LabelingError("Send one pick at a time.", code="bad_input")
        pair_id = _parse_int(request.POST.get("pair"), what="pair")
        services.pick_record(session=session_obj, pair=pair_id, side=request.POST.get("side", ""))
    except services.LabelingError as exc:
        return _error(request, exc, course=course, module=module)
    state = sessions.session_state(session=session_obj)
    current = next((i for i in state.items if i.pair_id == pair_id), None)
    following = state.next_unpicked_after(current.position if current else 0)
    if not request.htmx:
        return redirect(_session_url(course, module, following.position if following else None))
    context = {"module": content.module, "state": state, "item": following, "saved": current}
    return render(request, "labeling/session.html#pair", context)


@require_POST
@login_required
def finish(request: HtmxHttpRequest, course: str, module: str, session: int) -> HttpResponse:
    section = module_content(request, course, module).section(url_name="labeling:session")
    session_obj = sessions.session_for_user(user=request.user, pk=session)
    try:
        services.session_finish(session=session_obj, section=section)
    except services.LabelingError as exc:
        return _error(request, exc, course=course, module=module)
    return redirect("labeling:profile", course=course, module=module)


@require_GET
@login_required
def export_jsonl(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """The learner's own picks, one TRL conversational preference record per line."""
    module_content(request, course, module)
    session = exports.session_for_export(user=request.user)
    records = exports.preference_records(session=session) if session else []
    body = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    response = HttpResponse(body, content_type="application/jsonl; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-preferences.jsonl"'
    return response


@require_GET
@login_required
def profile_page(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """The reward profile; ?lam= picks the prior strength (one of reward.LAMBDA_STEPS),
    and with htmx only the figures that depend on it are swapped."""
    try:
        lam = profile.prior_strength(request.GET.get("lam"))
    except ValueError:
        exc = services.LabelingError(
            "That prior strength is not one of the steps offered.", code="bad_input"
        )
        back = reverse("labeling:profile", kwargs={"course": course, "module": module})
        return _error(request, exc, course=course, module=module, back=back)
    if request.htmx:
        context = _section_only(request, course, module, "labeling:profile")
    else:
        context = section_context(
            request, course=course, module=module, url_name="labeling:profile"
        )
    learner = fits.learner_fit(user=request.user, figures="profile")
    if learner.finished:
        context["profile"] = profile.learner_profile(learner, lam=lam)
    context["open_session"] = learner.has_open_session
    context["texts"] = course_content.texts(*PROFILE_TEXTS)
    context["sources"] = course_content.sources_by_key(*PROFILE_SOURCES)
    return render_page(request, "labeling/profile.html", context, partial="fit")


#: The profile page's lesson text and the sources it cites (admin-editable content).
PROFILE_TEXTS = (
    "profile-model",
    "profile-prior",
    "profile-loss",
    "profile-heldout",
    "profile-steps",
)
PROFILE_SOURCES = ("bradley-terry", "christiano", "stiennon", "instructgpt", "llama2")


def _section_only(request: HtmxHttpRequest, course: str, module: str, url_name: str) -> dict:
    """What an htmx fragment of a section page needs: the section, no outline (and no
    visit: the page itself was viewed first)."""
    section = module_content(request, course, module).section(url_name=url_name)
    return {"module": section.module, "section": section}


@require_GET
@login_required
def policy_page(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    if request.htmx:
        context = _section_only(request, course, module, "labeling:policy")
    else:
        context = section_context(request, course=course, module=module, url_name="labeling:policy")
    learner = fits.learner_fit(user=request.user, figures="policy")
    context["policy"] = policy.policy_view(
        fit=learner.fit,
        prompt_slug=request.GET.get("prompt"),
        beta_index=policy.beta_index(request.GET.get("beta")),
    )
    context["texts"] = course_content.texts(*POLICY_TEXTS)
    context["sources"] = course_content.sources_by_key(*POLICY_SOURCES)
    return render_page(request, "labeling/policy.html", context, partial="result")


POLICY_TEXTS = ("policy-objective", "policy-betas", "policy-best-of-n")
POLICY_SOURCES = ("stiennon", "instructgpt", "overoptimization", "dpo", "llama3")


@require_GET
@login_required
def critique_page(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """Constitutional AI's critique-and-revise phase: a GET form picks the principle,
    ?step= reveals the round one step at a time; with htmx only the round is swapped."""
    if request.htmx:
        context = _section_only(request, course, module, "labeling:critique")
    else:
        context = section_context(
            request, course=course, module=module, url_name="labeling:critique"
        )
    view = critique.critique_view(
        principle_slug=request.GET.get("principle"), step=request.GET.get("step")
    )
    context |= {
        "critique": view,
        "texts": course_content.texts("critique-intro", "critique-after"),
        "sources": course_content.sources_by_key("constitutional-ai"),
    }
    status = 400 if view.error else 200
    return render_page(request, "labeling/critique.html", context, partial="result", status=status)


@require_GET
@login_required
def rlaif_page(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    if request.htmx:
        context = _section_only(request, course, module, "labeling:rlaif")
    else:
        context = section_context(request, course=course, module=module, url_name="labeling:rlaif")
    learner = fits.learner_fit(user=request.user)
    context["rlaif"] = rlaif.rlaif_view(
        learner=learner, principle_slugs=request.GET.getlist("principle")
    )
    context["texts"] = course_content.texts("rlaif-intro", "rlaif-after")
    context["sources"] = course_content.sources_by_key("constitutional-ai", "claude-constitution")
    return render_page(request, "labeling/rlaif.html", context, partial="result")


# ------------------------------------------------------------------- instructor pages

#: The class preferences page's explanations (admin-editable teaching texts).
CLASS_TEXTS = (
    "class-split",
    "class-position-bias",
    "class-agreement",
    "class-models",
    "class-heldout",
    "class-outliers",
)


@require_GET
@login_required
def class_preferences(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """What the class prefers: splits, position bias, reward models, agreement."""
    classroom = instructor_classroom(request, pk)
    context = {
        "classroom": classroom,
        "prefs": class_view.class_preferences(classroom=classroom),
        "hide_names": names_hidden(request),
        "texts": course_content.texts(*CLASS_TEXTS),
    }
    return render(request, "labeling/class_preferences.html", context)


@require_GET
@login_required
def class_preferences_jsonl(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    """Every pick of the class, one TRL conversational preference record per line, streamed."""
    classroom = instructor_classroom(request, pk)
    records = exports.class_preference_records(classroom=classroom)
    response = StreamingHttpResponse(
        (json.dumps(record, ensure_ascii=False) + "\n" for record in records),
        content_type="application/jsonl; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="class-{classroom.pk}-preferences.jsonl"'
    )
    return response


@require_GET
@login_required
def class_preferences_csv(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    """Every pick of the class as CSV with pseudonyms (never usernames), streamed."""
    classroom = instructor_classroom(request, pk)
    rows = exports.class_preference_rows(classroom=classroom)
    return csv_rows.streaming_csv(rows, filename=f"class-{classroom.pk}-preferences.csv")
