"""Step the optimisers yourself (issue 14, section 2): policy gradient with a KL
penalty on a held-out prompt, and DPO on the learner's own six pairs.

For now the page shows its section's text; the optimisers come next."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from courseware.http import HtmxHttpRequest, section_context


@require_GET
@login_required
def optimisers(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = section_context(request, course=course, module=module, url_name="labs:optimisers")
    return render(request, "labs/optimisers.html", context)
