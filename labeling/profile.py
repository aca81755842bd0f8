"""The reward profile page: a learner's picks, their fitted reward model, and what a
model trained on those picks would choose. Read from the stored fit (labeling.fits)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

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


def _classmates(learner: LearnerFit) -> tuple[int, dict[tuple[int, str], int]]:
    """Finished classmates and their picks per (pair, response), as of the class's last
    published tally (labeling.services.class_tally_refresh: recounted only in steps of
    five finished labelers), with the learner's own picks taken out when the tally counted
    them (they had finished by then). A tally from before steps were kept (no "as_of")
    is not shown: it may differ from the next one by a single learner."""
    tally = learner.class_counts or {}
    as_of = tally.get("as_of")
    if not as_of:
        return 0, {}
    included = learner.session is not None and learner.session.finished_at <= (
        datetime.fromisoformat(as_of)
    )
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
    finished, counts = _classmates(learner)
    shown = finished >= CLASS_MIN_FINISHED
    items = {i.pair_id: i for i in learner.items}
    rows = []
    for pair_id, (rc, rr) in zip(figures["picked"], stored["picks"], strict=True):
        item, responses = items[pair_id], pairs[pair_id].responses
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
            )
        )
    return Profile(
        traits=space.traits,
        model=model,
        tallies=tallies,
        rows=rows,
        bars=charts.weight_bars(space.traits, model.weights_by_trait()),
        heldout=heldout,
        class_finished=finished,
        class_shown=shown,
        chart=charts.weight_chart(len(space.traits)),
    )
