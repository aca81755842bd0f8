"""Labeling pages: the session, the reward profile, the policy, RLAIF, the export."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from courseware import csv_rows, pagecache
from courseware import selectors as course_selectors
from courseware.pagecache import cached_page
from courseware.services import progress_mark_done
from courseware.views import HtmxHttpRequest, instructor_classroom, names_hidden, section_context

from . import selectors, services


def _session_url(course: str, module: str, position: int | None = None) -> str:
    url = reverse("labeling:session", kwargs={"course": course, "module": module})
    return f"{url}?{urlencode({'pair': position})}" if position else url


def _error(
    request: HtmxHttpRequest, exc: services.LabelingError, *, course: str, module: str
) -> HttpResponse:
    """A 4xx a person can read. htmx gets plain text that labeling.js puts in the
    page's alert region (htmx does not swap error responses)."""
    message = exc.messages[0]
    if request.htmx:
        return HttpResponse(message, status=exc.status, content_type="text/plain; charset=utf-8")
    context = {"message": message, "back": _session_url(course, module)}
    return render(request, "labeling/error.html", context, status=exc.status)


def _parse_int(raw: str | None, *, what: str) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise services.LabelingError(f"That {what} is not valid.", code="bad_input") from None


def _mark_done(request: HtmxHttpRequest, context: dict) -> None:
    """Mark the page's section done, unless the outline read in this request already
    shows it done (then the write would change nothing: it saves four queries on
    every later visit)."""
    section = context["section"]
    outline = context.get("outline", ())
    if not any(entry.done for entry in outline if entry.section.pk == section.pk):
        progress_mark_done(user=request.user, section=section)


@require_GET
@cached_page
@login_required
def session_page(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = section_context(request, course=course, module=module, url_name="labeling:session")
    session = selectors.session_open(user=request.user)
    if session is None:
        context["finished"] = selectors.session_latest_finished(user=request.user)
        return render(request, "labeling/session.html", context)
    state = selectors.session_state(session=session)
    try:
        position = int(request.GET.get("pair", ""))
    except ValueError:
        position = None
    # An unknown ?pair= (tampered, or a pair removed since) falls back to where the
    # learner stopped; the review shows only once every pair has a pick.
    item = (state.item_at(position) if position else None) or state.first_unpicked()
    if item is None and not state.complete:
        item = state.items[0] if state.items else None
    context.update({"state": state, "item": item})
    return render(request, "labeling/session.html", context)


@require_POST
@login_required
def session_new(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    try:
        services.session_start(user=request.user)
    except services.LabelingError as exc:
        return _error(request, exc, course=course, module=module)
    return redirect(_session_url(course, module))


@require_POST
@login_required
def pick(request: HtmxHttpRequest, course: str, module: str, session: int) -> HttpResponse:
    session_obj = selectors.session_for_user(user=request.user, pk=session)
    try:
        if len(request.POST.getlist("pair")) > 1 or len(request.POST.getlist("side")) > 1:
            # A form sends one pair and one side; two is a tampered or garbled request.
            raise services.LabelingError("Send one pick at a time.", code="bad_input")
        pair_id = _parse_int(request.POST.get("pair"), what="pair")
        services.pick_record(session=session_obj, pair=pair_id, side=request.POST.get("side", ""))
    except services.LabelingError as exc:
        return _error(request, exc, course=course, module=module)
    state = selectors.session_state(session=session_obj)
    current = next((i for i in state.items if i.pair.pk == pair_id), None)
    following = state.next_unpicked_after(current.position if current else 0)
    if not request.htmx:
        return redirect(_session_url(course, module, following.position if following else None))
    context = {
        "module": course_selectors.module_get(course=course, module=module),
        "state": state,
        "item": following,
        "saved": current,
    }
    return render(request, "labeling/session.html#pair", context)


@require_POST
@login_required
def finish(request: HtmxHttpRequest, course: str, module: str, session: int) -> HttpResponse:
    session_obj = selectors.session_for_user(user=request.user, pk=session)
    section = course_selectors.section_get(
        course=course, module=module, url_name="labeling:session"
    )
    try:
        services.session_finish(session=session_obj, section=section)
    except services.LabelingError as exc:
        return _error(request, exc, course=course, module=module)
    return redirect("labeling:profile", course=course, module=module)


@require_GET
@login_required
def export_jsonl(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """The learner's own picks, one TRL conversational preference record per line."""
    course_selectors.module_get(course=course, module=module)
    session = selectors.session_for_export(user=request.user)
    records = selectors.preference_records(session=session) if session else []
    body = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    response = HttpResponse(body, content_type="application/jsonl; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-preferences.jsonl"'
    return response


@require_GET
@cached_page
@login_required
def profile(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = section_context(request, course=course, module=module, url_name="labeling:profile")
    # Shows how classmates picked: kept only until one of them finishes labeling.
    classes = course_selectors.classroom_ids(user_id=request.user.pk)
    pagecache.depends_on(request, *map(pagecache.class_scope, classes))
    session = selectors.session_latest_finished(user=request.user)
    if session is not None:
        context["profile"] = selectors.learner_profile(
            user=request.user, session=session, classroom_ids=classes
        )
        _mark_done(request, context)
    context["open_session"] = selectors.session_open(user=request.user)
    return render(request, "labeling/profile.html", context)


def _beta_index(raw: str | None) -> int:
    """The slider's stop; anything unreadable or out of range falls back to DPO's 0.1."""
    try:
        index = int(raw or "")
    except ValueError:
        return selectors.DEFAULT_BETA_INDEX
    return index if 0 <= index < len(selectors.BETAS) else selectors.DEFAULT_BETA_INDEX


@require_GET
@cached_page
@login_required
def policy(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    if request.htmx:
        section = course_selectors.section_get(
            course=course, module=module, url_name="labeling:policy"
        )
        context = {"module": section.module, "section": section}
    else:
        context = section_context(request, course=course, module=module, url_name="labeling:policy")
    view = selectors.policy_view(
        user=request.user,
        prompt_slug=request.GET.get("prompt"),
        beta_index=_beta_index(request.GET.get("beta")),
    )
    context["policy"] = view
    if "beta" in request.GET and view is not None and view.has_profile:
        _mark_done(request, context)
    if request.htmx:
        return render(request, "labeling/policy.html#result", context)
    return render(request, "labeling/policy.html", context)


@require_GET
@cached_page
@login_required
def rlaif(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    if request.htmx:
        section = course_selectors.section_get(
            course=course, module=module, url_name="labeling:rlaif"
        )
        context = {"module": section.module, "section": section}
    else:
        context = section_context(request, course=course, module=module, url_name="labeling:rlaif")
    view = selectors.rlaif_view(user=request.user, principle_slugs=request.GET.getlist("principle"))
    context["rlaif"] = view
    if view.rows:
        _mark_done(request, context)
    if request.htmx:
        return render(request, "labeling/rlaif.html#result", context)
    return render(request, "labeling/rlaif.html", context)


# ------------------------------------------------------------------- instructor pages


@require_GET
@login_required
def class_preferences(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """What the class prefers: splits, position bias, reward models, agreement."""
    classroom = instructor_classroom(request, pk)
    context = {
        "classroom": classroom,
        "prefs": selectors.class_preferences(classroom=classroom),
        "hide_names": names_hidden(request),
    }
    return render(request, "labeling/class_preferences.html", context)


@require_GET
@login_required
def class_preferences_jsonl(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    """Every pick of the class, one TRL conversational preference record per line, streamed."""
    classroom = instructor_classroom(request, pk)
    records = selectors.class_preference_records(classroom=classroom)
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
    rows = selectors.class_preference_rows(classroom=classroom)
    return csv_rows.streaming_csv(rows, filename=f"class-{classroom.pk}-preferences.csv")
