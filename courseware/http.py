"""What every app's views share: the request type, rendering with htmx partials, the
section page context, and the instructor's class lookup."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from . import selectors, services
from .catalog import ModuleContent, course_catalog
from .models import Classroom
from .plugins import done_by_activity_rules
from .roles import is_instructor


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only its `{% partialdef partial %}` when htmx asked for it.

    The one way every view chooses a partial (django-htmx's `request.htmx` with Django's
    template partials). The answer differs by the HX-Request header, so it says so
    (`Vary`), and a shared cache or the browser's history cannot serve a fragment for a
    page or the reverse."""
    name = f"{template}#{partial}" if partial and request.htmx else template
    response = render(request, name, context, status=status)
    if partial:
        patch_vary_headers(response, ["HX-Request"])
    return response


def module_content(request: HttpRequest, course: str, module: str) -> ModuleContent:
    """The module a request names, with its sections. A draft (unpublished) module is a
    404 for everyone but staff, who may preview it: every page, fragment, export and
    POST under a module URL resolves it through here."""
    content = course_catalog().module(course, module)
    if not content.module.is_published and not getattr(request.user, "is_staff", False):
        raise Http404("No such module.")
    return content


def section_context(
    request: HttpRequest,
    *,
    course: str,
    module: str,
    section: str | None = None,
    url_name: str | None = None,
) -> dict:
    """What every section page needs: the section, the outline with this learner's
    progress, the neighbours, and the pager's rule.

    Interactive pages in any app call this with their own `url_name` (e.g.
    `section_context(request, course=course, module=module, url_name="labeling:session")`).
    One query (the learner's progress in the module). The first GET of a section records
    the visit (one insert); later views write nothing."""
    content = module_content(request, course, module)
    section_obj = content.section(slug=section, url_name=url_name)
    outline = selectors.module_outline(content=content, user=request.user)
    if request.method == "GET":
        outline = _record_first_view(request, outline, section_obj)
    previous, following = selectors.outline_neighbours(outline, section_obj)
    return {
        "module": content.module,
        "section": section_obj,
        "outline": outline,
        "previous": previous,
        "next": following,
        # Shown by the pager instead of "Done" for sections only their activity finishes.
        "hide_done": done_by_activity_rules().get(section_obj.url_name, ""),
    }


def _record_first_view(request: HttpRequest, outline: list, section) -> list:
    entry = next(e for e in outline if e.section.pk == section.pk)
    if entry.seen or not request.user.is_authenticated:
        return outline
    services.progress_mark_seen(user=request.user, section=section)
    seen = selectors.OutlineEntry(section=section, seen=True, done=entry.done)
    return [seen if e is entry else e for e in outline]


def section_is_done(context: dict) -> bool:
    """Whether the outline read for this request shows the page's section done."""
    section = context["section"]
    return any(e.done for e in context.get("outline", ()) if e.section.pk == section.pk)


def instructor_only(request: HttpRequest) -> None:
    if not is_instructor(request.user):
        raise PermissionDenied("This page is for instructors.")


def instructor_classroom(request: HttpRequest, pk: int) -> Classroom:
    """The class an instructor page is about: 403 for someone who is not an instructor,
    404 for a class they do not teach (admins see every class). Every class page and
    export in every app goes through here."""
    instructor_only(request)
    return selectors.classroom_for_instructor(user=request.user, pk=pk)


def names_hidden(request: HttpRequest) -> bool:
    return bool(request.session.get("hide_names", False))
