"""Step the optimisers yourself (issue 14, section 2): policy gradient with a KL
penalty on a held-out prompt, and DPO on the learner's own six pairs. GET only: the
URL is the whole state (labs.step_lab)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from courseware import catalog as course_content
from courseware.http import HtmxHttpRequest, render_page
from labeling import catalog, fits

from . import step_lab
from .lab_pages import bad_input, lab_base, lab_context
from .urlstate import LabInputError

TEXTS = ("optimisers-pg-intro", "optimisers-pg-after", "optimisers-dpo-intro",
         "optimisers-dpo-after")  # fmt: skip


@require_GET
@login_required
def optimisers(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    base = lab_base(request, course, module, "labs:optimisers")
    try:  # read the URL before anything is recorded: a bad one writes nothing
        state = step_lab.parse_state(request.GET, [p.slug for p in catalog.heldout_prompts()])
    except LabInputError as exc:
        return bad_input(request, exc, back=base)
    context = lab_context(request, course=course, module=module, url_name="labs:optimisers")
    learner = fits.learner_fit(user=request.user, figures="policy")
    context |= {
        "page": step_lab.optimiser_page(learner=learner, state=state, base=base),
        "texts": course_content.texts(*TEXTS),
        "base": base,
    }
    # Either lab's controls swap that lab; the other lab comes along out of band, so that
    # both carry the same URL state (see the template).
    partial = "htmx_dpo" if request.htmx.target == "dpo-lab" else "htmx_pg"
    return render_page(request, "labs/optimisers.html", context, partial=partial)
