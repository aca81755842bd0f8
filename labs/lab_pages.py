"""What the optimiser and RLVR lab views share: the section context (the whole page, or
just the section for an htmx fragment) and the 400 a tampered URL gets."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from courseware.http import HtmxHttpRequest, module_content, section_context

from .urlstate import LabInputError


def lab_base(request: HtmxHttpRequest, course: str, module: str, url_name: str) -> str:
    """The lab's own address; an unknown or draft module is a 404 before anything else."""
    module_content(request, course, module)
    return reverse(url_name, kwargs={"course": course, "module": module})


def lab_context(request: HtmxHttpRequest, *, course: str, module: str, url_name: str) -> dict:
    """An htmx fragment needs the section only: no outline, and no first-view record
    (the full page was viewed first)."""
    if request.htmx:
        section = module_content(request, course, module).section(url_name=url_name)
        return {"module": section.module, "section": section}
    return section_context(request, course=course, module=module, url_name=url_name)


def bad_input(request: HtmxHttpRequest, exc: LabInputError, *, back: str) -> HttpResponse:
    """400 with the sentence that says what is allowed; nothing was computed or written.
    htmx gets plain text, which the page's script shows in its alert region (htmx does
    not swap an error response)."""
    if request.htmx:
        return HttpResponse(
            exc.message, status=exc.status, content_type="text/plain; charset=utf-8"
        )
    return render(
        request, "labs/bad_input.html", {"message": exc.message, "back": back}, status=exc.status
    )
