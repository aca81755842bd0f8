"""The reward profile page: a learner's picks, their fitted reward model, and what a
model trained on those picks would choose. Read from the stored fit (labeling.fits)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from . import catalog, charts, reward
from .fits import FitItem, LearnerFit, model_at
from .models import Candidate, HeldOutPrompt, Response, Trait

#: Class agreement is shown only when the published tally counts this many classmates:
#: with fewer, a share would point at individuals.
CLASS_MIN_FINISHED = 5


@dataclass
class ProfileItem:
    """A picked pair with both responses (what the template reads as `row.item`)."""

    fit_item: FitItem
    chosen: Response
    rejected: Response

    @property
    def pair(self):
        return self.chosen.pair


@dataclass
class PickRow:
    item: ProfileItem
    reward_chosen: float
    reward_rejected: float
    loss: float
    probability: float
    class_share: float | None = None
    class_total: int = 0

    @property
    def margin(self) -> float:
        return self.reward_chosen - self.reward_rejected


@dataclass
class HeldOutChoice:
    prompt: HeldOutPrompt
    candidates: list[Candidate]
    rewards: list[float]
    best: Candidate
    reference_favourite: Candidate
    #: (n, exact expected reward of best-of-n under pi_ref) for reward.BEST_OF_N_SIZES.
    best_of_n: list[tuple[int, float]] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[Candidate, float]]:
        return list(zip(self.candidates, self.rewards, strict=True))

    @property
    def best_reward(self) -> float:
        return max(self.rewards)


def best_of_n_rows(candidates: list[Candidate], rewards) -> list[tuple[int, float]]:
    """Best-of-n's exact expected reward for each n the pages show, with the candidates'
    (illustrative) reference probabilities as the sampling distribution."""
    pi_ref = np.array([c.ref_prob for c in candidates], dtype=np.float64)
    pi_ref = pi_ref / pi_ref.sum()  # tolerate admin rounding (validated to 1e-3)
    return [
        (n, reward.best_of_n_expected_reward(rewards, pi_ref, n)) for n in reward.BEST_OF_N_SIZES
    ]


@dataclass(frozen=True)
class PriorStep:
    """One choice of the prior-strength control."""

    lam: float
    current: bool
    default: bool

    @property
    def value(self) -> str:
        return f"{self.lam:g}"

    @property
    def sd(self) -> float:
        """The Gaussian prior's standard deviation per weight, 1 / sqrt(lam)."""
        return 1 / math.sqrt(self.lam)


def prior_strength(raw: str | None) -> float:
    """The `lam` query parameter as one of reward.LAMBDA_STEPS (absent: the default).

    Raises ValueError for anything else: the stored fits exist only at those steps."""
    if raw is None or raw == "":
        return reward.DEFAULT_LAMBDA
    if len(raw) > 10:
        raise ValueError("too long")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"not a number: {raw!r}") from None
    for step in reward.LAMBDA_STEPS:
        if math.isclose(value, step, rel_tol=1e-9):
            return step
    raise ValueError(f"not one of the prior strengths offered: {raw!r}")


def prior_steps(lam: float) -> list[PriorStep]:
    return [
        PriorStep(lam=step, current=step == lam, default=step == reward.DEFAULT_LAMBDA)
        for step in reward.LAMBDA_STEPS
    ]


@dataclass
class Profile:
    traits: list[Trait]
    model: reward.RewardModel
    tallies: list[reward.TraitTally]
    rows: list[PickRow]
    bars: list[charts.WeightBar]
    heldout: list[HeldOutChoice]
    class_finished: int
    class_shown: bool
    #: What the picked pairs can tell apart (traits that always move together).
    design: reward.DesignCheck | None = None
    lam: float = reward.DEFAULT_LAMBDA
    steps: list[PriorStep] = field(default_factory=list)
    coin_flip_loss: float = reward.COIN_FLIP_LOSS
    chart: dict = field(default_factory=dict)

    @property
    def lam_label(self) -> str:
        return f"{self.lam:g}"

    @property
    def prior_sd(self) -> float:
        return 1 / math.sqrt(self.lam)

    @property
    def picks_given_back(self) -> int:
        """Picks the model gives more than an even chance."""
        return sum(1 for r in self.rows if r.probability > 0.5)

    @property
    def confounded_names(self) -> list[list[str]]:
        """Each group of traits the pairs cannot tell apart, by display name."""
        if self.design is None:
            return []
        names = {t.slug: t.name for t in self.traits}
        return [[names[slug] for slug in group] for group in self.design.confounded]

    @property
    def invisible_names(self) -> list[str]:
        if self.design is None:
            return []
        names = {t.slug: t.name for t in self.traits}
        return [names[slug] for slug in self.design.invisible]

    @property
    def tally_rows(self) -> list[tuple[Trait, reward.TraitTally]]:
        return list(zip(self.traits, self.tallies, strict=True))

    @property
    def mean_loss(self) -> float | None:
        return sum(r.loss for r in self.rows) / len(self.rows) if self.rows else None


def published_classmates(learner: LearnerFit) -> tuple[int, dict[tuple[int, str], int]]:
    """Finished classmates and their picks per (pair, response), as of the class's last
    published tally (labeling.services.class_tally_refresh: the earliest-finished learners,
    in steps of five), with the learner's own picks taken out when the tally counted them
    (their latest session is at or before the last one counted). A tally without a
    "through" mark (nobody counted, or from before steps were kept) shows nothing."""
    tally = learner.class_counts or {}
    through = tally.get("through")
    if not through:
        return 0, {}
    last_at, last_pk = datetime.fromisoformat(through[0]), int(through[1])
    session = learner.session
    included = session is not None and (session.finished_at, session.pk) <= (last_at, last_pk)
    finished = max(int(tally.get("finished", 0)) - included, 0)
    counts = {}
    for key, n in tally.get("picks", {}).items():
        pair_id, chosen = key.split(":")
        counts[int(pair_id), chosen] = n
    if included:
        for item in learner.items:
            if item.chosen is not None and (item.pair_id, item.chosen) in counts:
                counts[item.pair_id, item.chosen] = max(counts[item.pair_id, item.chosen] - 1, 0)
    return finished, counts


def _loss(margin: float) -> float:
    """-log sigmoid(margin), without overflow."""
    return math.log1p(math.exp(-margin)) if margin > -30 else -margin


def learner_profile(learner: LearnerFit, *, lam: float = reward.DEFAULT_LAMBDA) -> Profile:
    """Everything the profile page shows, read from the stored fit (no fitting here)."""
    space, pairs = catalog.trait_space(), catalog.pairs()
    fit = learner.fit
    figures = fit.profile
    model = model_at(fit, lam)
    stored = figures["models"][reward.LAMBDA_STEPS.index(lam)]
    tallies = [
        reward.TraitTally(
            trait=trait.slug,
            phrase=trait.phrase,
            differing=differing,
            chose_more=chose_more,
            sentence=reward.tally_sentence(trait.phrase, chose_more, differing),
        )
        for trait, (differing, chose_more) in zip(space.traits, figures["tallies"], strict=True)
    ]
    finished, counts = published_classmates(learner)
    shown = finished >= CLASS_MIN_FINISHED
    items = {i.pair_id: i for i in learner.items}
    rows, differences = [], []
    for pair_id, (rc, rr) in zip(figures["picked"], stored["picks"], strict=True):
        item, responses = items[pair_id], pairs[pair_id].responses
        differences.append(
            space.vector(responses[item.chosen].traits)
            - space.vector(responses[item.rejected].traits)
        )
        row = PickRow(
            item=ProfileItem(
                fit_item=item, chosen=responses[item.chosen], rejected=responses[item.rejected]
            ),
            reward_chosen=rc,
            reward_rejected=rr,
            loss=_loss(rc - rr),
            probability=1 / (1 + math.exp(-(rc - rr))) if rc - rr > -30 else 0.0,
        )
        if shown:
            same = counts.get((pair_id, item.chosen), 0)
            other = counts.get((pair_id, item.rejected), 0)
            row.class_total = same + other
            row.class_share = same / row.class_total if row.class_total else None
        rows.append(row)
    heldout = []
    for prompt, rewards in zip(catalog.heldout_prompts(), stored["heldout"], strict=True):
        candidates = prompt.candidate_list
        best = max(range(len(rewards)), key=lambda i: (rewards[i], -i))
        heldout.append(
            HeldOutChoice(
                prompt=prompt,
                candidates=candidates,
                rewards=rewards,
                best=candidates[best],
                reference_favourite=max(candidates, key=lambda c: c.ref_prob),
                best_of_n=best_of_n_rows(candidates, rewards),
            )
        )
    # Which traits the picked pairs cannot tell apart: a property of the pairs, not of
    # the picks (a pick flips a row's sign, which changes nothing here).
    matrix = np.array(differences, dtype=np.float64).reshape(-1, len(space.slugs))
    design = reward.design_check(matrix, space.slugs) if space.slugs else None
    return Profile(
        traits=space.traits,
        model=model,
        tallies=tallies,
        rows=rows,
        bars=charts.weight_bars(space.traits, model.weights_by_trait()),
        heldout=heldout,
        class_finished=finished,
        class_shown=shown,
        design=design,
        lam=lam,
        steps=prior_steps(lam),
        chart=charts.weight_chart(len(space.traits)),
    )
