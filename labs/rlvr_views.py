"""RL with verifiable rewards (issue 14, section 3): GRPO on checkable tasks, and
rejection sampling with the learner's reward model as the judge. GET only: the URL is
the whole state (labs.rlvr_lab)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from courseware import catalog as course_content
from courseware.http import HtmxHttpRequest, render_page
from labeling import catalog, fits

from . import rlvr_lab
from .lab_pages import bad_input, lab_base, lab_context
from .urlstate import LabInputError

TEXTS = ("rlvr-grpo-intro", "rlvr-grpo-after", "rlvr-rejection-intro", "rlvr-rejection-after")


@require_GET
@login_required
def rlvr(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    base = lab_base(request, course, module, "labs:rlvr")
    try:  # read the URL before anything is recorded: a bad one writes nothing
        state = rlvr_lab.parse_state(request.GET, [p.slug for p in catalog.heldout_prompts()])
    except LabInputError as exc:
        return bad_input(request, exc, back=base)
    context = lab_context(request, course=course, module=module, url_name="labs:rlvr")
    learner = fits.learner_fit(user=request.user, figures="policy")
    context |= {
        "page": rlvr_lab.rlvr_page(learner=learner, state=state, base=base),
        "texts": course_content.texts(*TEXTS),
        "base": base,
    }
    partial = "htmx_rs" if request.htmx.target == "rs-lab" else "htmx_grpo"
    return render_page(request, "labs/rlvr.html", context, partial=partial)
