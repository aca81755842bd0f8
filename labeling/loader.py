"""Labeling's content loader (see courseware.plugins): traits, pairs, held-out prompts,
the constitution, from labeling/content/*.json."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from courseware import content

from .models import (
    Candidate,
    CritiqueExample,
    HeldOutPrompt,
    PreferencePair,
    Principle,
    Response,
    ResponseKey,
    Trait,
    validate_candidate_probabilities,
    validate_trait_values,
)

CONTENT = Path(__file__).resolve().parent / "content"


def _read(name: str):
    return json.loads((CONTENT / name).read_text(encoding="utf-8"))


def _check_file(name: str, check) -> None:
    """Reject a broken content file before anything is written: fail loudly, write nothing."""
    try:
        check()
    except ValidationError as exc:
        raise ValidationError(f"labeling/content/{name}: {exc.messages}") from exc


@transaction.atomic
def load_content(*, stdout) -> None:
    """Create what is missing, keyed by slug; never overwrite an existing row (admin
    edits survive) and never duplicate one (a second run creates nothing)."""
    traits, pairs = _read("traits.json"), _read("pairs.json")
    heldout, constitution = _read("heldout.json"), _read("constitution.json")
    slugs = {t["slug"] for t in traits} | set(Trait.objects.values_list("slug", flat=True))

    def check_pairs() -> None:
        for pair in pairs:
            if sorted(pair["responses"]) != sorted(ResponseKey.values):
                raise ValidationError(f"pair {pair['slug']} needs exactly responses a and b")
            for response in pair["responses"].values():
                validate_trait_values(response["traits"], trait_slugs=slugs)

    def check_heldout() -> None:
        for prompt in heldout:
            validate_candidate_probabilities([c["ref_prob"] for c in prompt["candidates"]])
            for candidate in prompt["candidates"]:
                validate_trait_values(candidate["traits"], trait_slugs=slugs)

    def check_constitution() -> None:
        for principle in constitution:
            validate_trait_values(principle["weights"], trait_slugs=slugs, low=-1, high=1)

    _check_file("pairs.json", check_pairs)
    _check_file("heldout.json", check_heldout)
    _check_file("constitution.json", check_constitution)

    made = 0
    for data in traits:
        _, created = Trait.objects.get_or_create(
            slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
        )
        made += created
    for data in pairs:
        fields = {k: v for k, v in data.items() if k not in {"slug", "responses", "order"}}
        pair = PreferencePair.objects.filter(slug=data["slug"]).first()
        if pair is None:
            # The order is unique: a pair an admin added at this position keeps it.
            taken = PreferencePair.objects.filter(order=data["order"]).exists()
            order = data["order"]
            if taken:
                order = (PreferencePair.objects.order_by("-order").first().order or 0) + 1
            pair = PreferencePair.objects.create(slug=data["slug"], order=order, **fields)
            made += 1
        for key, response in data["responses"].items():
            _, created = Response.objects.get_or_create(pair=pair, key=key, defaults=response)
            made += created
    for data in heldout:
        prompt, created = HeldOutPrompt.objects.get_or_create(
            slug=data["slug"],
            defaults={k: v for k, v in data.items() if k not in {"slug", "candidates"}},
        )
        made += created
        if created:
            Candidate.objects.bulk_create(Candidate(prompt=prompt, **c) for c in data["candidates"])
            made += len(data["candidates"])
    for data in constitution:
        _, created = Principle.objects.get_or_create(
            slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
        )
        made += created
    made += _load_critiques(_read("critiques.json"))
    content.bump()  # bulk-created rows send no signal
    stdout.write(f"labeling: {made} new rows.")


def _load_critiques(critiques: list[dict]) -> int:
    """Constitutional AI's critique-and-revise rounds, one per principle, by slug. A
    principle that already has a round (an admin's) keeps it; a taken order goes last."""
    principles = {p.slug: p for p in Principle.objects.all()}
    missing = sorted({c["principle"] for c in critiques} - set(principles))
    if missing:
        raise ValidationError(f"labeling/content/critiques.json: unknown principle(s) {missing}")
    made = 0
    for data in critiques:
        principle = principles[data["principle"]]
        exists = CritiqueExample.objects.filter(slug=data["slug"]).exists()
        if exists or CritiqueExample.objects.filter(principle=principle).exists():
            continue
        fields = {k: v for k, v in data.items() if k not in {"slug", "principle"}}
        if CritiqueExample.objects.filter(order=fields["order"]).exists():
            last = CritiqueExample.objects.order_by("-order").first()
            fields["order"] = last.order + 1
        CritiqueExample.objects.create(slug=data["slug"], principle=principle, **fields)
        made += 1
    return made
