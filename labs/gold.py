"""The over-optimisation lab's two rewards over the held-out candidates.

- The **proxy** is the learner's six-pick reward model, read from their stored fit
  (`labeling.fits.learner_fit`): nothing is refitted here.
- The **gold** is a better-informed reward: the class's model, fitted on every finished
  classmate's picks (the published class tally the learner's profile already reads,
  with the learner's own picks taken out) when at least `CLASS_GOLD_MIN` classmates have
  finished; otherwise the learner's own judgement, picked between pairs of held-out
  candidates on the lab page (`HeldoutPick`), as one Bradley–Terry score per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labeling import catalog, reward
from labeling.fits import LearnerFit, model_at
from labeling.models import Candidate, HeldOutPrompt
from labeling.profile import CLASS_MIN_FINISHED, published_classmates

from . import overopt
from .models import HeldoutPick

#: The class model is the gold once this many classmates (the learner not counted) have
#: finished labeling: the threshold under which the profile page hides class figures, so
#: that no classmate's picks can be read off it. Five learners' six picks are 30
#: comparisons, five times what the proxy saw.
CLASS_GOLD_MIN = CLASS_MIN_FINISHED
#: A prompt counts for the learner's own gold once they have picked this many of its
#: pairs (one pick ranks two of five candidates; two start a ranking).
OWN_GOLD_MIN_PER_PROMPT = 2


@dataclass(frozen=True)
class HeldoutPair:
    """Two candidates of one held-out prompt offered for a quick pick."""

    prompt: HeldOutPrompt
    first: Candidate  # first.pk < second.pk: the stored order
    second: Candidate
    winner_id: int | None = None  # the learner's pick, if made

    @property
    def key(self) -> tuple[int, int]:
        return (self.first.pk, self.second.pk)

    @property
    def candidates(self) -> list[Candidate]:
        return [self.first, self.second]


def offered_pairs(prompts: list[HeldOutPrompt]) -> list[HeldoutPair]:
    """Each prompt's candidates as a chain, neighbour against neighbour in the order the
    content gives them (four pairs for five candidates, enough to connect them all), the
    prompts taken in turn so that the first picks cover every prompt."""
    chains = []
    for prompt in prompts:
        cands = prompt.candidate_list
        chain = []
        for a, b in zip(cands, cands[1:], strict=False):
            first, second = (a, b) if a.pk < b.pk else (b, a)
            chain.append(HeldoutPair(prompt=prompt, first=first, second=second))
        chains.append(chain)
    rounds = max((len(c) for c in chains), default=0)
    return [chain[i] for i in range(rounds) for chain in chains if i < len(chain)]


def heldout_picks(*, user) -> dict[tuple[int, int], int]:
    """{(first id, second id): winner id} for the learner: one query."""
    rows = HeldoutPick.objects.filter(user=user).values_list("first_id", "second_id", "first_won")
    return {(a, b): (a if won else b) for a, b, won in rows}


@dataclass
class Rewards:
    """Proxy and gold over the prompts the gold covers, and where the gold came from."""

    kind: str  # "class" | "own" | "" (no gold yet)
    classmates: int
    prompts: list[HeldOutPrompt] = field(default_factory=list)
    per_prompt: list[overopt.PromptRewards] = field(default_factory=list)
    proxy_rows: list[np.ndarray] = field(default_factory=list)
    gold_rows: list[np.ndarray] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.per_prompt)


def _matrix(prompt) -> np.ndarray:
    space = catalog.trait_space()
    return np.stack([space.vector(c.traits) for c in prompt.candidate_list])


def _pi_ref(prompt) -> np.ndarray:
    pi = np.array([c.ref_prob for c in prompt.candidate_list], dtype=np.float64)
    return pi / pi.sum()


def class_gold_weights(class_counts: dict | None) -> np.ndarray:
    """The class's Bradley–Terry weights from a tally {"picks": {"<pair>:<a|b>": n}}: one
    fit of every pick (the way the class view fits it, from counts)."""
    space, pairs = catalog.trait_space(), catalog.pairs()
    counts = (class_counts or {}).get("picks", {})
    rows, weights = [], []
    for pk, content in pairs.items():
        if not content.complete:
            continue
        diff = space.vector(content.responses["a"].traits) - space.vector(
            content.responses["b"].traits
        )
        rows += [diff, -diff]
        weights += [counts.get(f"{pk}:a", 0), counts.get(f"{pk}:b", 0)]
    k = len(space.slugs)
    d = np.array(rows, dtype=np.float64).reshape(1, len(rows), k)
    return reward.fit_reward_models(d, np.array(weights, dtype=np.float64)[None, :])[0]


def learner_rewards(*, learner: LearnerFit, picks: dict[tuple[int, int], int]) -> Rewards:
    """The proxy (stored fit) and the best gold available for this learner."""
    prompts = catalog.heldout_prompts()
    # What the profile's class column shows (published in steps of five finished
    # labelers), without the learner's own picks: the gold never counts the proxy's data.
    n_classmates, counts = published_classmates(learner)
    if learner.fit is None:
        return Rewards(kind="", classmates=n_classmates)
    proxy_w = model_at(learner.fit, reward.DEFAULT_LAMBDA).weights
    if n_classmates >= CLASS_GOLD_MIN:
        tally = {"picks": {f"{pair}:{key}": n for (pair, key), n in counts.items()}}
        gold_w = class_gold_weights(tally)
        result = Rewards(kind="class", classmates=n_classmates)
        for prompt in prompts:
            m = _matrix(prompt)
            _add(result, prompt, m @ proxy_w, m @ gold_w)
        return result
    result = Rewards(kind="own", classmates=n_classmates)
    for prompt in prompts:
        index = {c.pk: i for i, c in enumerate(prompt.candidate_list)}
        mine = [
            (index[w], index[b if w == a else a])
            for (a, b), w in picks.items()
            if a in index and b in index
        ]
        if len(mine) < OWN_GOLD_MIN_PER_PROMPT:
            continue
        gold = overopt.candidate_strengths(len(index), mine)
        _add(result, prompt, _matrix(prompt) @ proxy_w, gold)
    if not result.ready:
        result.kind = ""
    return result


def _add(result: Rewards, prompt, proxy: np.ndarray, gold: np.ndarray) -> None:
    result.prompts.append(prompt)
    result.proxy_rows.append(proxy)
    result.gold_rows.append(gold)
    result.per_prompt.append(overopt.PromptRewards.of(_pi_ref(prompt), proxy, gold))
