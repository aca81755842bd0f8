"""The module's teaching pages: pipeline walkthrough, pre-training demo, SFT, comparison.

Each view parses, calls selectors in `courseware.teaching`, renders. With htmx the same
view answers with a named partial of the same template.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from . import catalog, ngram, services, teaching
from .forms import GuessForm, SampleForm
from .http import HtmxHttpRequest, render_page, section_context, section_is_done
from .models import ComparePrompt, Source, Stage
from .numbers import parse_int

# -- pipeline ---------------------------------------------------------------------------------


def _pipeline(request: HtmxHttpRequest, course: str, module: str, stage: str | None):
    context = section_context(request, course=course, module=module, url_name="courseware:pipeline")
    stages = catalog.pipeline_stages()
    current, previous, following = teaching.stage_neighbours(stages, stage)
    compute = teaching.figure_rows("compute") if current is None else []
    context |= {
        "stages": stages,
        "classic": [s for s in stages if s.group == "classic"],
        "modern": [s for s in stages if s.group == "modern"],
        "stage": current,
        "stage_previous": previous,
        "stage_next": following,
        "compute": compute,
        "texts": catalog.texts("pipeline-intro", "pipeline-compute", "pipeline-modern"),
        "sources": teaching.sources_used(stages if current is None else [current], compute),
    }
    return render_page(request, "courseware/pipeline.html", context, partial="panel")


@require_GET
@login_required
def pipeline(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    return _pipeline(request, course, module, None)


@require_GET
@login_required
def pipeline_stage(request: HtmxHttpRequest, course: str, module: str, stage: str) -> HttpResponse:
    return _pipeline(request, course, module, stage)


# -- pre-training -----------------------------------------------------------------------------

_PRETRAINING_PARTIALS = {"next-result": "next", "score-result": "score", "sample-result": "sample"}


@require_GET
@login_required
def pretraining(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """Three GET forms on one URL, so every result is a link. Only the demos whose
    parameters are present are computed; the model is built once per process."""
    context = section_context(
        request, course=course, module=module, url_name="courseware:pretraining"
    )
    model = ngram.build_default_model()
    query = request.GET
    phrase = teaching.clip(query.get("phrase", ""))
    sentence = teaching.clip(query.get("sentence", ""))
    start = teaching.clip(query.get("start", ""))
    sample_form = SampleForm(query)
    status = 200
    sampled = None
    if "start" in query:
        if sample_form.is_valid():
            temperature = sample_form.cleaned_data["temperature"] or 1.0
            seed = sample_form.cleaned_data["seed"]
            seed = teaching.new_seed() if seed is None else seed
            sampled = teaching.sample_text(model, start.text, temperature=temperature, seed=seed)
        else:
            status = 400
    context |= {
        "model": model,
        "max_chars": teaching.MAX_INPUT_CHARS,
        "phrase": phrase,
        "sentence": sentence,
        "start": start,
        "sample_form": sample_form,
        "temperature_value": query.get("temperature", "1.0"),
        "seed_value": query.get("seed", ""),
        "next_tokens": teaching.next_tokens(model, phrase.text) if "phrase" in query else None,
        "scored": teaching.sentence_score(model, sentence.text) if "sentence" in query else None,
        "score_asked": "sentence" in query,
        "sampled": sampled,
        "texts": catalog.texts(
            "pretraining-intro",
            "pretraining-model",
            "pretraining-next",
            "pretraining-score",
            "pretraining-sample",
        ),
    }
    partial = _PRETRAINING_PARTIALS.get(request.htmx.target or "") if request.htmx else None
    response = render_page(
        request, "courseware/pretraining.html", context, partial=partial, status=status
    )
    # Three forms, one URL: which fragment answers depends on the form that asked.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


# -- SFT --------------------------------------------------------------------------------------


@require_GET
@login_required
def sft(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = section_context(request, course=course, module=module, url_name="courseware:sft")
    examples = catalog.sft_examples()
    example = teaching.sft_example_pick(examples, request.GET.get("example"))
    figures = teaching.figure_rows("sft-data")
    tokens = teaching.sft_tokens(instruction=example.instruction, response=example.response)
    context |= {
        "examples": examples,
        "example": example,
        "tokens": tokens,
        "counted": sum(token.counted for token in tokens),
        "masked": sum(not token.counted for token in tokens),
        "figures": figures,
        "sources": teaching.sources_used(figures, [example]),
        "texts": catalog.texts("sft-intro", "sft-masking", "sft-scale"),
    }
    return render_page(request, "courseware/sft.html", context, partial="example")


# -- stage comparison -------------------------------------------------------------------------


@require_GET
@login_required
def compare(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    context = section_context(request, course=course, module=module, url_name="courseware:compare")
    prompts = catalog.compare_prompts()
    prompt = teaching.compare_prompt_pick(prompts, request.GET.get("prompt"))
    context |= {
        "prompts": prompts,
        "prompt": prompt,
        "responses": teaching.compare_responses(prompt=prompt),
        "texts": catalog.texts("compare-intro", "compare-guess"),
        "sources": compare_sources(prompts),
    }
    return render_page(request, "courseware/compare.html", context, partial="panel")


def compare_sources(prompts: list[ComparePrompt]) -> list[Source]:
    """The papers behind the behaviours shown (base vs. tuned; refusals from harmlessness
    data and safety tuning) and the source of every published answer on any prompt (the
    list sits outside the swapped panel, so it covers them all)."""
    documented = catalog.sources_by_key("instructgpt", "hh-rlhf", "llama2", "constitutional-ai")
    published = teaching.sources_used([r for p in prompts for r in p.responses.all()])
    return teaching.sources_merged(documented, published)


@require_http_methods(["GET", "POST"])
@login_required
def compare_guess(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """GET: one response, stage hidden (the one in ?response=, or one at random).
    POST: the learner's guess; the answer and why. A guess finishes the section.
    A malformed round or guess is a 400, an unknown response a 404."""
    context = section_context(request, course=course, module=module, url_name="courseware:compare")
    context["texts"] = catalog.texts("compare-guess")
    context["stages"] = Stage.choices
    if request.method == "POST":
        form = GuessForm(request.POST)
        response_id = parse_int(form.data.get("response"), minimum=1)
        if response_id is None or len(request.POST.getlist("response")) > 1:
            return _guess_error(request, context, "That round is not one we know. Start a new one.")
        response = teaching.guess_response(response_id=response_id)
        if not form.is_valid():
            context["response"] = response
            return _guess_error(
                request, context, "Pick one of the three stages: base, SFT or RLHF."
            )
        guess = form.cleaned_data["guess"]
        context["result"] = {"guess": Stage(guess), "correct": guess == response.stage}
        if not section_is_done(context):
            services.progress_mark_done(user=request.user, section=context["section"])
    else:
        raw = request.GET.get("response")
        response_id = parse_int(raw, minimum=1)
        if raw and response_id is None:
            return _guess_error(request, context, "That round is not one we know. Start a new one.")
        response = teaching.guess_response(response_id=response_id)
    context["response"] = response
    return render_page(request, "courseware/guess.html", context, partial="guess")


def _guess_error(request: HtmxHttpRequest, context: dict, message: str) -> HttpResponse:
    context.setdefault("response", None)
    context["error"] = message
    return render_page(request, "courseware/guess.html", context, partial="guess", status=400)


# -- the closing section ----------------------------------------------------------------------

# Cited in the closing text (refusals; reward-model biases) beside the table's own sources.
CLOSING_SOURCES = ("hh-rlhf", "llama2", "singhal", "sharma")


@require_GET
@login_required
def closing(request: HtmxHttpRequest, course: str, module: str) -> HttpResponse:
    """What each stage added and cost, as one table, and why the result is layered."""
    context = section_context(request, course=course, module=module, url_name="courseware:closing")
    rows = catalog.recap_rows()
    context |= {
        "rows": rows,
        "texts": catalog.texts("closing-intro", "closing-table", "closing-costs", "closing-layers"),
        "sources": teaching.sources_merged(
            teaching.sources_used(rows), catalog.sources_by_key(*CLOSING_SOURCES)
        ),
    }
    return render(request, "courseware/closing.html", context)
