"""The reward profile page: a learner's picks, their fitted reward model, and what a
model trained on those picks would choose. Read from the stored fit (labeling.fits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import catalog, charts, reward
from .fits import FitItem, LearnerFit, comparisons
from .models import Candidate, HeldOutPrompt, Response, Trait

#: Class agreement is shown only when this many classmates have finished: with
#: fewer, a share would point at individuals.
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

    @property
    def rows(self) -> list[tuple[Candidate, float]]:
        return list(zip(self.candidates, self.rewards, strict=True))


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
    coin_flip_loss: float = reward.COIN_FLIP_LOSS
    chart: dict = field(default_factory=dict)

    @property
    def tally_rows(self) -> list[tuple[Trait, reward.TraitTally]]:
        return list(zip(self.traits, self.tallies, strict=True))

    @property
    def mean_loss(self) -> float | None:
        return sum(r.loss for r in self.rows) / len(self.rows) if self.rows else None


def heldout_choices(
    model: reward.RewardModel, prompts: Sequence[HeldOutPrompt]
) -> list[HeldOutChoice]:
    space = catalog.trait_space()
    choices = []
    for prompt in prompts:
        candidates = prompt.candidate_list
        matrix = np.stack([space.vector(c.traits) for c in candidates])
        ranked = reward.rank_candidates(model, matrix)
        rewards = [0.0] * len(candidates)
        for r in ranked:
            rewards[r.index] = r.reward
        choices.append(
            HeldOutChoice(
                prompt=prompt,
                candidates=candidates,
                rewards=rewards,
                best=candidates[ranked[0].index],
                reference_favourite=max(candidates, key=lambda c: c.ref_prob),
            )
        )
    return choices


def _classmates(learner: LearnerFit) -> tuple[int, dict[tuple[int, str], int]]:
    """Finished classmates and their picks per (pair, response), the learner's own
    latest picks taken out of the class tally."""
    if not learner.class_counts:
        return max(learner.class_finished - 1, 0), {}
    counts = {}
    for key, n in learner.class_counts.items():
        pair_id, chosen = key.split(":")
        counts[int(pair_id), chosen] = n
    for item in learner.items:
        if item.chosen is not None and (item.pair_id, item.chosen) in counts:
            counts[item.pair_id, item.chosen] = max(counts[item.pair_id, item.chosen] - 1, 0)
    return max(learner.class_finished - 1, 0), counts


def learner_profile(learner: LearnerFit) -> Profile:
    space, pairs = catalog.trait_space(), catalog.pairs()
    model = learner.model
    picked = [
        i for i in learner.items if i.chosen and i.pair_id in pairs and pairs[i.pair_id].complete
    ]
    tallies = reward.trait_tallies(comparisons(picked), space.slugs, phrases=space.phrases)
    finished, counts = _classmates(learner)
    shown = finished >= CLASS_MIN_FINISHED
    rows = []
    for item in picked:
        responses = pairs[item.pair_id].responses
        chosen, rejected = responses[item.chosen], responses[item.rejected]
        rc = model.reward(space.vector(chosen.traits))
        rr = model.reward(space.vector(rejected.traits))
        row = PickRow(
            item=ProfileItem(fit_item=item, chosen=chosen, rejected=rejected),
            reward_chosen=rc,
            reward_rejected=rr,
            loss=float(np.logaddexp(0.0, -(rc - rr))),
            probability=float(1 / (1 + np.exp(-(rc - rr)))),
        )
        if shown:
            same = counts.get((item.pair_id, item.chosen), 0)
            other = counts.get((item.pair_id, item.rejected), 0)
            row.class_total = same + other
            row.class_share = same / row.class_total if row.class_total else None
        rows.append(row)
    return Profile(
        traits=space.traits,
        model=model,
        tallies=tallies,
        rows=rows,
        bars=charts.weight_bars(space.traits, model.weights_by_trait()),
        heldout=heldout_choices(model, catalog.heldout_prompts()),
        class_finished=finished,
        class_shown=shown,
        chart=charts.weight_chart(len(space.traits)),
    )
