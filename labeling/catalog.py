"""Labeling's content, one accessor per kind, kept in process memory per content
version (see `courseware.content`): traits, preference pairs with their responses,
held-out prompts with their candidates, the constitution."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
from django.db.models import Prefetch

from courseware.content import content_accessor

from .models import (
    Candidate,
    CritiqueExample,
    HeldOutPrompt,
    PreferencePair,
    Principle,
    Response,
    Trait,
)


@dataclass(frozen=True)
class TraitSpace:
    traits: list[Trait]

    @property
    def slugs(self) -> list[str]:
        return [t.slug for t in self.traits]

    @property
    def phrases(self) -> dict[str, str]:
        return {t.slug: t.phrase for t in self.traits}

    def vector(self, values: dict) -> np.ndarray:
        """Trait values in this space's order; a trait added later in admin reads as 0."""
        return np.array([float(values.get(slug, 0.0)) for slug in self.slugs], dtype=np.float64)


@content_accessor
def trait_space() -> TraitSpace:
    return TraitSpace(list(Trait.objects.all()))


@dataclass(frozen=True)
class PairContent:
    pair: PreferencePair
    responses: dict[str, Response]  # "a" and "b"

    @property
    def complete(self) -> bool:
        return set(self.responses) == {"a", "b"}


@content_accessor
def pairs() -> dict[int, PairContent]:
    """Every pair (active or not) by id, in order, with both responses: two queries."""
    found = PreferencePair.objects.prefetch_related(
        Prefetch("responses", queryset=Response.objects.order_by("key"))
    )
    return {
        pair.pk: PairContent(pair=pair, responses={r.key: r for r in pair.responses.all()})
        for pair in found
    }


@content_accessor
def heldout_prompts() -> list[HeldOutPrompt]:
    """Held-out prompts in order, each with its candidates in order: two queries.
    Prompts without candidates are left out."""
    prompts = HeldOutPrompt.objects.prefetch_related(
        Prefetch("candidates", queryset=Candidate.objects.order_by("order"))
    )
    kept = []
    for prompt in prompts:
        prompt.candidate_list = list(prompt.candidates.all())
        if prompt.candidate_list:
            kept.append(prompt)
    return kept


@content_accessor
def principles() -> list[Principle]:
    return list(Principle.objects.all())


@content_accessor
def critique_examples() -> list[CritiqueExample]:
    """Constitutional AI's critique-and-revise rounds in order, each with its principle and
    source: one query."""
    return list(CritiqueExample.objects.select_related("principle", "source"))


@content_accessor
def fit_inputs_key() -> str:
    """A fingerprint of everything a learner's stored fit depends on: the trait list,
    every pair's response traits and the held-out candidates (their traits and reference
    probabilities). A stored fit made under another fingerprint is derived again (see
    `labeling.fits`); editing a quiz question, say, changes the content version but not
    this."""
    space = trait_space()
    data = {
        "traits": space.slugs,
        "pairs": {
            str(pk): {key: space.vector(r.traits).tolist() for key, r in p.responses.items()}
            for pk, p in pairs().items()
        },
        "heldout": [
            [
                prompt.pk,
                [
                    [c.pk, c.ref_prob, space.vector(c.traits).tolist()]
                    for c in prompt.candidate_list
                ],
            ]
            for prompt in heldout_prompts()
        ],  # fmt: skip
    }
    encoded = json.dumps(data, sort_keys=True).encode()
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()
