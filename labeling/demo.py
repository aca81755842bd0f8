"""Labeling's demo data (see courseware.plugins): finished sessions with varied picks."""

from __future__ import annotations

import math
import random

from django.db import transaction
from django.utils import timezone

from courseware.models import Section
from courseware.services import progress_follow_activity

from . import fits, services
from .models import LabelingSession, Pick, PreferencePair, ResponseKey, SessionPair, Trait


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
    # As finishing does: each session's fit is stored (the instructor's class pictures read
    # the stored fits), and what classmates see of the class is counted.
    for session in sessions:
        fits.fit_store(session=session)
    services.class_tally_refresh(classroom_ids=[classroom.pk])
    # Progress follows activity: whoever has a finished session has the section done,
    # whoever has none does not (the courseware demo drew progress at random).
    finished = set(
        LabelingSession.objects.filter(user__in=students, finished_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    for section in Section.objects.filter(
        module__course=classroom.course, url_name="labeling:session"
    ):
        progress_follow_activity(section=section, users=students, done_user_ids=finished)
    stdout.write(f"labeling: {len(sessions)} demo labeling sessions.")
