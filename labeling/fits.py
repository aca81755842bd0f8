"""A finished session's reward model: derived once from its picks, stored, read back.

`fit_derive` is the pure step (picks and content in, weights out); `fit_store` writes it
when a session finishes; `learner_fit` reads the learner's latest finished session with
its fit in one query, and derives the fit again only when the content it was made from
has changed since (or the session predates stored fits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from . import catalog, reward
from .models import LabelingSession, Pick, RewardFit, ScreenSide, SessionPair

#: Bump when the way fits are made changes (prior, solver): every stored fit is then
#: derived again on its next read.
FIT_VERSION = "1"


def inputs_key() -> str:
    return f"{FIT_VERSION}:{catalog.fit_inputs_key()}"


@dataclass(frozen=True)
class FitItem:
    """One pair of the session as the learner saw and picked it."""

    pair_id: int
    position: int
    left: str  # the response key shown on the left
    chosen: str | None  # the response key picked (None: no pick)

    @property
    def rejected(self) -> str | None:
        if self.chosen is None:
            return None
        return "b" if self.chosen == "a" else "a"

    @property
    def picked_side(self) -> str | None:
        if self.chosen is None:
            return None
        return ScreenSide.LEFT if self.chosen == self.left else ScreenSide.RIGHT

    def as_json(self) -> dict:
        return {"pair": self.pair_id, "position": self.position, "left": self.left,
                "chosen": self.chosen}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict) -> FitItem:
        return cls(data["pair"], data["position"], data["left"], data["chosen"])


def comparisons(items: list[FitItem]) -> list[reward.Comparison]:
    """The picks as chosen/rejected trait vectors, over today's content; pairs that are
    gone or incomplete are left out."""
    space, pairs = catalog.trait_space(), catalog.pairs()
    found = []
    for item in items:
        content = pairs.get(item.pair_id)
        if item.chosen is None or content is None or not content.complete:
            continue
        found.append(
            reward.Comparison(
                chosen=space.vector(content.responses[item.chosen].traits),
                rejected=space.vector(content.responses[item.rejected].traits),
            )
        )
    return found


def fit_derive(items: list[FitItem]) -> list[list[float]]:
    """Pure: the weights of the Bradley–Terry fit of these picks (one vector per prior
    strength offered)."""
    space = catalog.trait_space()
    model = reward.fit_reward_model(comparisons(items), space.slugs)
    return [model.weights.tolist()]


def session_items(session: LabelingSession) -> list[FitItem]:
    """The session's pairs in order with their picks: one query."""
    rows = (
        SessionPair.objects.filter(session=session)
        .annotate(
            chosen=Subquery(
                Pick.objects.filter(session=session, pair=OuterRef("pair_id")).values("chosen")[:1]
            )
        )
        .order_by("position")
        .values_list("pair_id", "position", "left", "chosen")
    )
    return [FitItem(*row) for row in rows]


def fit_store(*, session: LabelingSession, items: list[FitItem] | None = None) -> RewardFit:
    """Derive and keep the fit of a finished session (an upsert: storing it twice, or
    again after a content change, leaves one row)."""
    items = session_items(session) if items is None else items
    fit = RewardFit(
        session=session,
        inputs_key=inputs_key(),
        items=[item.as_json() for item in items],
        weights=fit_derive(items),
        traits=catalog.trait_space().slugs,
        fitted_at=timezone.now(),
    )
    RewardFit.objects.bulk_create(
        [fit],
        update_conflicts=True,
        unique_fields=["session"],
        update_fields=["inputs_key", "items", "weights", "traits", "fitted_at"],
    )
    return fit


@dataclass
class LearnerFit:
    """The learner's latest finished session with its fit, and whether a newer session
    is open."""

    session: LabelingSession | None
    items: list[FitItem]
    model: reward.RewardModel | None
    has_open_session: bool
    class_finished: int = 0
    class_counts: dict | None = None

    @property
    def finished(self) -> bool:
        return self.session is not None


def learner_fit(*, user: AbstractBaseUser, with_class: bool = False) -> LearnerFit:
    """One query: the latest finished session with its stored fit (a LEFT JOIN), the open
    session if any, and — with `with_class` — the tally of the learner's newest class.

    A fit missing (a session finished before fits were stored) or made from other content
    is derived now and stored: a one-off write, never repeated for the same content."""
    latest = (
        LabelingSession.objects.filter(user=user, finished_at__isnull=False)
        .order_by("-finished_at")
        .values("pk")[:1]
    )
    sessions = LabelingSession.objects.filter(
        Q(pk=Subquery(latest)) | Q(user=user, finished_at__isnull=True)
    ).select_related("fit")
    if with_class:
        from courseware.models import Enrollment

        from .models import ClassPickTally

        newest = (
            Enrollment.objects.filter(student=user).order_by("-joined_at").values("classroom_id")
        )[:1]
        tally = ClassPickTally.objects.filter(classroom_id=Subquery(newest))
        sessions = sessions.annotate(
            class_finished=Subquery(tally.values("finished")[:1]),
            class_counts=Subquery(tally.values("counts")[:1]),
        )
    rows = list(sessions)
    session = next((s for s in rows if s.is_finished), None)
    has_open = any(not s.is_finished for s in rows)
    if session is None:
        return LearnerFit(session=None, items=[], model=None, has_open_session=has_open)
    fit = getattr(session, "fit", None)
    if fit is None or fit.inputs_key != inputs_key():
        fit = fit_store(session=session)
    return LearnerFit(
        session=session,
        items=[FitItem.from_json(item) for item in fit.items],
        model=_model(fit),
        has_open_session=has_open,
        class_finished=getattr(session, "class_finished", None) or 0,
        class_counts=getattr(session, "class_counts", None),
    )


def _model(fit: RewardFit) -> reward.RewardModel:
    space = catalog.trait_space()
    stored = dict(zip(fit.traits, fit.weights[0], strict=True))
    # The stored order is the fit's; today's trait list reads a trait added since as 0.
    weights = np.array([stored.get(slug, 0.0) for slug in space.slugs])
    return reward.RewardModel(
        trait_names=tuple(space.slugs),
        weights=weights,
        C=reward.DEFAULT_C,
        pick_losses=np.empty(0),
        mean_loss=None,
    )
