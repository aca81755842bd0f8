"""Labeling's hooks (see courseware.plugins): content, demo picks, the overview panel."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from courseware.plugins import Panel

from .models import (
    Candidate,
    HeldOutPrompt,
    LabelingSession,
    Pick,
    PreferencePair,
    Principle,
    Response,
    ResponseKey,
    SessionPair,
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
    stdout.write(f"labeling: {made} new rows.")


# --------------------------------------------------------------------------- demo


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@transaction.atomic
def demo_populate(*, classroom, students, rng: random.Random, stdout) -> None:
    """Give most demo students one finished session with plausible, varied picks.

    Each student gets a taste vector around a class-wide one (most people like short,
    warm answers; opinions on caution and questions split) and picks by the
    Bradley–Terry probability of that taste, so the class view has real structure and
    real disagreement. Students who already have a session are left alone.
    """
    pairs = list(PreferencePair.objects.filter(is_active=True).prefetch_related("responses"))
    trait_slugs = list(Trait.objects.values_list("slug", flat=True))
    if not pairs or not trait_slugs:
        return
    taken = set(LabelingSession.objects.filter(user__in=students).values_list("user_id", flat=True))
    class_taste = {"concise": 1.5, "hedges": 0.3, "refuses": -0.5, "formal": -0.3,
                   "clarifies": 0.0, "warm": 1.0}  # fmt: skip
    # The first student starts fresh (to try the exercise) and every sixth has not
    # labeled yet; chosen by position, not at random, so a re-run picks the same people.
    labelers = [s for i, s in enumerate(students) if i > 0 and i % 6 != 5 and s.pk not in taken]
    now = timezone.now()
    sessions = LabelingSession.objects.bulk_create(
        LabelingSession(
            user=student,
            started_at=now - timezone.timedelta(minutes=10),
            finished_at=now,
        )
        for student in labelers
    )
    shown, picks = [], []
    for session in sessions:
        taste = {slug: class_taste.get(slug, 0.0) + rng.gauss(0, 1.2) for slug in trait_slugs}
        for position, pair in enumerate(pairs, start=1):
            responses = {r.key: r for r in pair.responses.all()}
            left = rng.choice(ResponseKey.values)
            shown.append(SessionPair(session=session, pair=pair, position=position, left=left))
            reward = {
                key: sum(taste[s] * float(r.traits.get(s, 0.0)) for s in trait_slugs)
                for key, r in responses.items()
            }
            # A little position bias, as real labelers show: +0.2 logit for the left one.
            edge = reward["a"] - reward["b"] + (0.2 if left == "a" else -0.2)
            chosen = "a" if rng.random() < _sigmoid(edge) else "b"
            picks.append(
                Pick(session=session, pair=pair, chosen=chosen, chosen_left=(chosen == left))
            )
    SessionPair.objects.bulk_create(shown)
    Pick.objects.bulk_create(picks)
    stdout.write(f"labeling: {len(sessions)} demo labeling sessions.")


# ------------------------------------------------------------------------ overview


def overview_panels(*, user, module) -> list[Panel]:
    from . import selectors

    if not user.is_authenticated:
        return []
    section = module.sections.filter(url_name="labeling:session").first()
    if section is None:  # a module without the labeling exercise gets no panel
        return []
    section.module = module
    status = selectors.labeling_status(user=user)
    return [Panel(template="labeling/panel.html", context={"status": status, "section": section})]


# ----------------------------------------------------------------- instructor view


def roster_columns(*, classroom):
    """Per student: finished labeling at least once; picks in their latest session."""
    from django.db.models import Count, Exists, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from courseware.plugins import RosterColumn

    finished = LabelingSession.objects.filter(user=OuterRef("pk"), finished_at__isnull=False)
    latest = (
        LabelingSession.objects.filter(user=OuterRef(OuterRef("pk")))
        .order_by("-started_at")
        .values("pk")[:1]
    )
    picks = (
        Pick.objects.filter(session_id=Subquery(latest))
        .order_by()
        .values("session_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return [
        RosterColumn("labeling_finished", "Labeling finished", Exists(finished), kind="bool"),
        RosterColumn("labeling_picks", "Pairs labeled", Coalesce(Subquery(picks), 0)),
    ]


def class_links(*, classroom):
    from django.urls import reverse

    from courseware.plugins import ClassLink

    kwargs = {"pk": classroom.pk}
    return [
        ClassLink(
            "Class preferences",
            reverse("labeling:class-preferences", kwargs=kwargs),
            "how the class split on each pair, its reward model and labeler agreement",
        ),
        ClassLink(
            "Class preferences (JSONL)",
            reverse("labeling:class-preferences-jsonl", kwargs=kwargs),
            "every pick in Hugging Face TRL's conversational preference format",
        ),
        ClassLink(
            "Class preferences (CSV)",
            reverse("labeling:class-preferences-csv", kwargs=kwargs),
            "one row per pick, students as pseudonyms",
        ),
    ]
