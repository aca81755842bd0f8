"""The over-optimisation lab (issue 14, section 1)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from courseware import catalog as course_content
from courseware.http import (
    HtmxHttpRequest,
    instructor_classroom,
    module_content,
    names_hidden,
    render_page,
    section_context,
)
from labeling import fits

from . import class_view, gold, lab, services

URL_NAME = "labs:overoptimisation"
#: Which chart an htmx request redraws, by the control that sent it.
PARTIALS = {"beta": "sweep", "n": "bon"}
TEXT_KEYS = (
    "overopt-gold",
    "overopt-own-gold",
    "overopt-sweep-after",
    "overopt-bon-after",
    "overopt-entropy-after",
)


def _section_only(request: HtmxHttpRequest, course: str, module: str) -> dict:
    """What an htmx fragment needs: the section, no outline (the page was viewed first)."""
    section = module_content(request, course, module).section(url_name=URL_NAME)
    return {"module": section.module, "section": section}


def _bad_input(request: HtmxHttpRequest, message: str, back: str, status: int = 400):
    if request.htmx:  # htmx does not swap errors; labs.js shows this text
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    return render(request, "labs/error.html", {"message": message, "back": back}, status=status)


@require_GET
@login_required
def overoptimisation(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """The sweep over beta, best-of-n and the entropy; ?beta= and ?n= mark a point on
    them, and with htmx only the chart whose control moved is sent."""
    module_content(request, course, module)  # an unknown or draft module is a 404 first
    page = reverse(URL_NAME, kwargs={"course": course, "module": module})
    try:
        beta = lab.parse_beta(request.GET.get("beta"))
        n = lab.parse_n(request.GET.get("n"))
    except lab.LabInputError as exc:
        return _bad_input(request, str(exc), page)
    if request.htmx:
        context = _section_only(request, course, module)
    else:
        context = section_context(request, course=course, module=module, url_name=URL_NAME)
    context["lab"] = lab.overopt_view(
        learner=fits.learner_fit(user=request.user),
        picks=gold.heldout_picks(user=request.user),
        beta=beta,
        n=n,
    )
    context["texts"] = course_content.texts(*TEXT_KEYS)
    context["sources"] = course_content.sources_by_key("stiennon", "overoptimization")
    partial = PARTIALS.get(request.htmx.trigger_name or "", "sweep") if request.htmx else None
    return render_page(request, "labs/overoptimisation.html", context, partial=partial)


def _parse_id(raw: str | None) -> int:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise services.LabError("That answer is not valid.")
    return int(raw)


@require_POST
@login_required
def heldout_pick(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """One quick pick between two held-out answers, for the learner's own gold."""
    module_content(request, course, module)  # an unknown or draft module is a 404
    page = reverse(URL_NAME, kwargs={"course": course, "module": module})
    try:
        services.heldout_pick_record(
            user=request.user,
            first_id=_parse_id(request.POST.get("first")),
            second_id=_parse_id(request.POST.get("second")),
            winner_id=_parse_id(request.POST.get("winner")),
        )
    except services.LabError as exc:
        return _bad_input(request, exc.message, page, exc.status)
    return redirect(f"{page}#own-gold", permanent=False)


@require_GET
@login_required
def class_overoptimisation(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The instructor's picture: the class model as gold against each learner's model."""
    classroom = instructor_classroom(request, pk)
    picture = class_view.class_overoptimisation(classroom=classroom)
    # A big class's table comes in pages; the summary and the chart cover everyone.
    try:
        rows = Paginator(picture.learners, class_view.TABLE_PAGE).page(request.GET.get("page", 1))
    except InvalidPage as exc:
        raise Http404("There is no such page of this table.") from exc
    context = {
        "classroom": classroom,
        "picture": picture,
        "rows": rows,
        "hide_names": names_hidden(request),
        "sources": course_content.sources_by_key("stiennon", "overoptimization"),
    }
    return render(request, "labs/class_overoptimisation.html", context)
