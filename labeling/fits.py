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
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from . import catalog, reward
from .models import LabelingSession, Pick, RewardFit, ScreenSide, SessionPair

#: Bump when the way fits are made changes (prior, solver, what is stored): every stored
#: fit is then derived again on its next read.
FIT_VERSION = "2"

#: The policy page's beta control: log-spaced, including InstructGPT's 0.02 and DPO's 0.1.
BETAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


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


def fit_derive(items: list[FitItem]) -> tuple[list[list[float]], dict]:
    """Pure over today's content: the Bradley–Terry weights of these picks at every prior
    strength the profile offers (`reward.LAMBDA_STEPS`), and every figure the profile and
    policy pages show, so that they render from the stored row without computing."""
    space, pairs = catalog.trait_space(), catalog.pairs()
    found = comparisons(items)
    models = reward.fit_reward_model_steps(found, space.slugs)
    tallies = reward.trait_tallies(found, space.slugs, phrases=space.phrases)
    picked = [i for i in items if i.chosen and i.pair_id in pairs and pairs[i.pair_id].complete]
    chosen = np.array([space.vector(pairs[i.pair_id].responses[i.chosen].traits) for i in picked])
    rejected = np.array(
        [space.vector(pairs[i.pair_id].responses[i.rejected].traits) for i in picked]
    )
    prompts = catalog.heldout_prompts()
    matrices = [np.stack([space.vector(c.traits) for c in p.candidate_list]) for p in prompts]
    per_lam = []
    for model in models:
        w = model.weights
        per_lam.append(
            {
                "lam": model.lam,
                "picks": [
                    [float(c @ w), float(r @ w)] for c, r in zip(chosen, rejected, strict=True)
                ],
                "heldout": [(m @ w).tolist() for m in matrices],
            }
        )
    default = models[reward.LAMBDA_STEPS.index(reward.DEFAULT_LAMBDA)]
    figures = {
        "picked": [i.pair_id for i in picked],
        "tallies": [[t.differing, t.chose_more] for t in tallies],
        "models": per_lam,
        "policy": {
            str(prompt.pk): policy_table(prompt, matrix @ default.weights)
            for prompt, matrix in zip(prompts, matrices, strict=True)
        },
    }
    return [m.weights.tolist() for m in models], figures


def policy_table(prompt, rewards: np.ndarray) -> dict:
    """The exact optimum pi* at every beta of the policy page, for one prompt."""
    pi_ref = np.array([c.ref_prob for c in prompt.candidate_list])
    pi_ref = pi_ref / pi_ref.sum()  # tolerate admin rounding (validated to 1e-3)
    rows = []
    for beta in BETAS:
        pi_star = reward.optimal_policy(pi_ref, rewards, beta)
        rows.append(
            {
                "pi": pi_star.tolist(),
                "implicit": reward.dpo_implicit_reward(pi_star, pi_ref, beta).tolist(),
                "expected": reward.expected_reward(pi_star, rewards),
                "kl": reward.kl_divergence(pi_star, pi_ref),
                "log_z": reward.log_partition(pi_ref, rewards, beta),
            }
        )
    return {
        "rewards": rewards.tolist(),
        "pi_ref": pi_ref.tolist(),
        "reference": reward.expected_reward(pi_ref, rewards),
        "betas": rows,
    }


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
    weights, figures = fit_derive(items)
    fit = RewardFit(
        session=session,
        inputs_key=inputs_key(),
        items=[item.as_json() for item in items],
        weights=weights,
        figures=figures,
        traits=catalog.trait_space().slugs,
        fitted_at=timezone.now(),
    )
    RewardFit.objects.bulk_create(
        [fit],
        update_conflicts=True,
        unique_fields=["session"],
        update_fields=["inputs_key", "items", "weights", "figures", "traits", "fitted_at"],
    )
    return fit


@dataclass
class LearnerFit:
    """The learner's latest finished session with its stored fit."""

    session: LabelingSession | None
    items: list[FitItem]
    fit: RewardFit | None
    has_open_session: bool = False
    class_counts: dict | None = None

    @property
    def finished(self) -> bool:
        return self.session is not None

    @property
    def model(self) -> reward.RewardModel | None:
        """The model at the default prior strength (None: no finished session)."""
        return None if self.fit is None else model_at(self.fit, reward.DEFAULT_LAMBDA)


def learner_fit(*, user: AbstractBaseUser, for_profile: bool = False) -> LearnerFit:
    """One query: the learner's latest finished session joined to its stored fit; for the
    profile page also whether a session is open and the tally of the learner's newest
    class (two subqueries of the same statement).

    A fit missing (a session finished before fits were stored) or made from other content
    is derived now and stored: a one-off write, never repeated for the same content."""
    sessions = LabelingSession.objects.filter(user=user, finished_at__isnull=False)
    if for_profile:
        from courseware.models import Enrollment

        from .models import ClassPickTally

        newest = Enrollment.objects.filter(student=user).order_by("-joined_at")
        tally = ClassPickTally.objects.filter(
            classroom_id=Subquery(newest.values("classroom_id")[:1])
        )
        sessions = sessions.annotate(
            has_open=Exists(LabelingSession.objects.filter(user=user, finished_at__isnull=True)),
            class_counts=Subquery(tally.values("counts")[:1]),
        )
    session = sessions.select_related("fit").order_by("-finished_at").first()
    if session is None:
        has_open = (
            for_profile
            and LabelingSession.objects.filter(user=user, finished_at__isnull=True).exists()
        )
        return LearnerFit(session=None, items=[], fit=None, has_open_session=has_open)
    fit = getattr(session, "fit", None)
    if fit is None or fit.inputs_key != inputs_key():
        fit = fit_store(session=session)
    return LearnerFit(
        session=session,
        items=[FitItem.from_json(item) for item in fit.items],
        fit=fit,
        has_open_session=getattr(session, "has_open", False),
        class_counts=getattr(session, "class_counts", None),
    )


def model_at(fit: RewardFit, lam: float) -> reward.RewardModel:
    """The stored model at one prior strength, over today's trait list (a trait added
    since reads as 0; such a fit is derived again on its next read anyway)."""
    space = catalog.trait_space()
    index = reward.LAMBDA_STEPS.index(lam)
    stored = dict(zip(fit.traits, fit.weights[index], strict=True))
    weights = np.array([stored.get(slug, 0.0) for slug in space.slugs])
    return reward.RewardModel(
        trait_names=tuple(space.slugs),
        weights=weights,
        lam=lam,
        pick_losses=np.empty(0),
        mean_loss=None,
    )
