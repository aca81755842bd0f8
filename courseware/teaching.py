"""Reads and small pure helpers for the teaching pages: the pipeline walkthrough, the
pre-training demo (over `courseware.ngram`), SFT examples and the stage-comparison viewer.

Content comes from `courseware.catalog` (kept in process memory per content version), so
these cost no queries of their own.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass

from django.http import Http404

from . import catalog, ngram
from .models import (
    ComparePrompt,
    CompareResponse,
    Figure,
    PipelineStage,
    RecapRow,
    SFTExample,
    Source,
    Stage,
)

STAGE_ORDER = [Stage.BASE, Stage.SFT, Stage.RLHF]

# The demo reads at most this much of what a learner types. Inputs carry a matching
# maxlength; a longer value (a hand-made URL) is cut, and the page says so.
MAX_INPUT_CHARS = 1000
TOP_K = 10
SAMPLE_TOKENS = 30
TEMPERATURE_MIN = 0.1
TEMPERATURE_MAX = 5.0
SEED_MAX = 2**32 - 1


# -- shared -----------------------------------------------------------------------------------


def sources_used(*groups) -> list[Source]:
    """Distinct sources of stages and closing-table rows (sources prefetched), figure rows
    and sample outputs, oldest first."""
    seen: dict[int, Source] = {}
    for group in groups:
        for row in group:
            # A stage or a table row links many sources; a figure row or a sample output
            # names at most one.
            if isinstance(row, PipelineStage | RecapRow):
                linked = list(row.sources.all())
            elif isinstance(row, FigureRow):
                linked = [row.figure.source]
            else:
                linked = [row.source] if row.source is not None else []
            for source in linked:
                seen.setdefault(source.pk, source)
    return sources_merged(seen.values())


def sources_merged(*lists) -> list[Source]:
    """Distinct sources of several lists, oldest first."""
    seen = {source.pk: source for sources in lists for source in sources}
    return sorted(seen.values(), key=lambda s: (s.year or 0, s.title))


# -- pipeline ---------------------------------------------------------------------------------


def stage_neighbours(
    stages: list[PipelineStage], slug: str | None
) -> tuple[PipelineStage | None, PipelineStage | None, PipelineStage | None]:
    """(current, previous, next) in the walkthrough; the overview (slug None) comes first.
    An unknown slug is a 404."""
    if slug is None:
        return None, None, stages[0] if stages else None
    for index, stage in enumerate(stages):
        if stage.slug == slug:
            following = stages[index + 1] if index + 1 < len(stages) else None
            previous = stages[index - 1] if index > 0 else None
            return stage, previous, following
    raise Http404("No such stage.")


@dataclass(frozen=True)
class FigureRow:
    figure: Figure
    share: float | None
    """value / baseline value, for compute figures that are not the baseline."""
    bar: float
    """Bar length in percent of the longest bar (0..100)."""

    @property
    def share_percent(self) -> str:
        if self.share is None:
            return ""
        return f"{self.share * 100:.2g}" if self.share < 0.01 else f"{self.share * 100:.1f}"


def figure_rows(group: str) -> list[FigureRow]:
    """The figures of one group with their share of the baseline."""
    figures = catalog.figures().get(group, [])
    if not figures:
        return []
    baseline = next((f.value for f in figures if f.is_baseline), None)
    longest = max(f.value for f in figures) or 1.0
    return [
        FigureRow(
            figure=f,
            share=f.value / baseline if baseline and not f.is_baseline else None,
            bar=max(100.0 * f.value / longest, 0.3),  # a sliver stays visible
        )
        for f in figures
    ]


# -- SFT --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownToken:
    text: str
    counted: bool
    """True for response tokens (the loss counts them), False for masked prompt tokens."""


_SHOWN_TOKEN_RE = re.compile(r"\S+")


def sft_tokens(*, instruction: str, response: str) -> list[ShownToken]:
    """The example split into whitespace tokens, prompt masked and response counted.

    Real tokenizers cut subwords; whole words keep the picture readable.
    """
    prompt = [ShownToken(t, False) for t in _SHOWN_TOKEN_RE.findall(instruction)]
    answer = [ShownToken(t, True) for t in _SHOWN_TOKEN_RE.findall(response)]
    return prompt + answer


def sft_example_pick(examples: list[SFTExample], slug: str | None) -> SFTExample:
    """The example named in the URL, the first one if none is named; unknown → 404."""
    if not examples:
        raise Http404("No examples yet.")
    if not slug:
        return examples[0]
    for example in examples:
        if example.slug == slug:
            return example
    raise Http404("No such example.")


# -- stage comparison -------------------------------------------------------------------------


def compare_prompt_pick(prompts: list[ComparePrompt], slug: str | None) -> ComparePrompt:
    if not prompts:
        raise Http404("No prompts yet.")
    if not slug:
        return prompts[0]
    for prompt in prompts:
        if prompt.slug == slug:
            return prompt
    raise Http404("No such prompt.")


def compare_responses(*, prompt: ComparePrompt) -> list[CompareResponse]:
    """The prompt's responses in pipeline order (base, SFT, RLHF)."""
    return sorted(prompt.responses.all(), key=lambda r: STAGE_ORDER.index(r.stage))


def guess_response(*, response_id: int | None) -> CompareResponse:
    """The response of a guessing round: the one named, or one at random.
    A named id that does not exist is a 404."""
    responses = [r for prompt in catalog.compare_prompts() for r in prompt.responses.all()]
    if response_id is not None:
        for response in responses:
            if response.pk == response_id:
                return response
        raise Http404("No such response.")
    if not responses:
        raise Http404("No responses yet.")
    return secrets.choice(responses)


# -- the pre-training demo --------------------------------------------------------------------


@dataclass(frozen=True)
class Clipped:
    text: str
    original_length: int

    @property
    def was_clipped(self) -> bool:
        return self.original_length > len(self.text)


def clip(text: str) -> Clipped:
    return Clipped(text[:MAX_INPUT_CHARS], len(text))


def display_token(token: str) -> str:
    return {ngram.EOS: "(end of sentence)", ngram.UNK: "(unknown word)"}.get(token, token)


@dataclass(frozen=True)
class NextToken:
    token: str
    probability: float
    bar: float


@dataclass(frozen=True)
class NextTokens:
    context: tuple[str, ...]
    """The words the model conditions on (at most two), as the learner typed them."""
    unknown: tuple[str, ...]
    rows: tuple[NextToken, ...]


def next_tokens(model: ngram.NGramModel, text: str) -> NextTokens:
    tokens = ngram.tokenize(text)
    context = tuple(tokens[-(model.order - 1) :]) if tokens else ()
    top = model.top_k(tokens, TOP_K)
    best = top[0][1] if top else 1.0
    return NextTokens(
        context=context,
        unknown=tuple(t for t in context if model.vocab_token(t) == ngram.UNK),
        rows=tuple(NextToken(display_token(t), p, 100.0 * p / best) for t, p in top),
    )


@dataclass(frozen=True)
class ScoredRow:
    token: str
    unknown: bool
    probability: float
    bits: float
    bar: float


@dataclass(frozen=True)
class Scored:
    rows: tuple[ScoredRow, ...]
    mean_bits: float
    perplexity: float
    n_unknown: int


def sentence_score(model: ngram.NGramModel, text: str) -> Scored | None:
    """Per-token surprisal in bits, mean loss and perplexity; None for no words at all."""
    score = model.score(text)
    if score.is_empty:
        return None
    worst = max(row.bits for row in score.rows) or 1.0
    rows = tuple(
        ScoredRow(
            token=display_token(row.token),
            unknown=row.is_unknown,
            probability=row.probability,
            bits=row.bits,
            bar=100.0 * row.bits / worst,
        )
        for row in score.rows
    )
    return Scored(rows, score.mean_bits, score.perplexity, score.n_unknown)


@dataclass(frozen=True)
class Sampled:
    text: str
    temperature: float
    seed: int
    ended: bool


def new_seed() -> int:
    return secrets.randbelow(1_000_000)


def detokenize(tokens: list[str]) -> str:
    text = " ".join(t for t in tokens if t != ngram.EOS)
    return re.sub(r" ([.,;:!?])", r"\1", text)


def sample_text(model: ngram.NGramModel, start: str, *, temperature: float, seed: int) -> Sampled:
    if not (math.isfinite(temperature) and TEMPERATURE_MIN <= temperature <= TEMPERATURE_MAX):
        raise ValueError("temperature out of range")
    tokens = model.sample(
        start, SAMPLE_TOKENS, temperature=temperature, seed=seed, exclude_unknown=True
    )
    return Sampled(
        text=detokenize(tokens),
        temperature=temperature,
        seed=seed,
        ended=bool(tokens) and tokens[-1] == ngram.EOS,
    )
