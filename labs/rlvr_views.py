"""RL with verifiable rewards (issue 14, section 3): GRPO on checkable tasks, and
rejection sampling with the learner's reward model as the judge.

For now the page shows its section's text; the interactive part comes next."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from courseware.http import HtmxHttpRequest, section_context


@require_GET
@login_required
def rlvr(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = section_context(request, course=course, module=module, url_name="labs:rlvr")
    return render(request, "labs/rlvr.html", context)
