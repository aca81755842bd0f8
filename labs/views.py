"""The over-optimisation lab (issue 14, section 1)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from courseware.http import HtmxHttpRequest, section_context


@require_GET
@login_required
def overoptimisation(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = section_context(
        request, course=course, module=module, url_name="labs:overoptimisation"
    )
    return render(request, "labs/overoptimisation.html", context)
