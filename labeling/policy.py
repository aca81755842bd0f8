"""The policy page: the exact KL-regularised optimum for one held-out prompt at one beta,
with the learner's own reward (from their stored fit)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from courseware.numbers import parse_int

from . import catalog, charts, reward
from .fits import BETAS, model_at, policy_table
from .models import Candidate, HeldOutPrompt, RewardFit
from .profile import best_of_n_rows

DEFAULT_BETA_INDEX = BETAS.index(0.1)  # DPO's default


@dataclass
class PolicyBar:
    candidate: Candidate
    reward: float
    pi_ref: float
    pi_star: float
    implicit_reward: float
    y: str = "0"

    # Text, not numbers: see charts._svg.
    @property
    def ref_percent(self) -> str:
        return f"{self.pi_ref * 100:.1f}"

    @property
    def star_percent(self) -> str:
        return f"{self.pi_star * 100:.1f}"

    @property
    def ref_width(self) -> str:
        return charts.svg_number(self.pi_ref * charts.POLICY_BAR_MAX)

    @property
    def star_width(self) -> str:
        return charts.svg_number(self.pi_star * charts.POLICY_BAR_MAX)

    @property
    def ref_text_x(self) -> str:
        return charts.svg_number(charts.POLICY_LABEL + self.pi_ref * charts.POLICY_BAR_MAX + 6)

    @property
    def star_text_x(self) -> str:
        return charts.svg_number(charts.POLICY_LABEL + self.pi_star * charts.POLICY_BAR_MAX + 6)


@dataclass
class PolicyView:
    prompts: list[HeldOutPrompt]
    prompt: HeldOutPrompt
    beta: float
    beta_index: int
    bars: list[PolicyBar]
    expected_reward: float
    reference_reward: float
    kl: float
    log_z: float
    has_profile: bool
    model: reward.RewardModel
    #: max - min of the learner's rewards over this prompt's candidates.
    spread: float = 0.0
    #: (n, exact expected reward of best-of-n under the illustrative pi_ref).
    best_of_n: list[tuple[int, float]] = field(default_factory=list)
    betas: tuple[float, ...] = BETAS
    chart: dict = field(default_factory=dict)

    @property
    def best_reward(self) -> float:
        return max(bar.reward for bar in self.bars)

    @property
    def lowest_reward(self) -> float:
        return min(bar.reward for bar in self.bars)

    @property
    def odds_factor(self) -> float:
        """exp(spread / beta): the most pi* can move the odds between two candidates."""
        return math.exp(min(self.spread / self.beta, 700.0))

    @property
    def odds_factor_label(self) -> str:
        factor = self.odds_factor
        if factor >= 1e6:
            return "more than a million"
        return f"{factor:,.0f}" if factor >= 10 else f"{factor:.2f}"

    @property
    def beta_label(self) -> str:
        return f"{self.beta:g}"

    @property
    def shift(self) -> float:
        """beta * log Z: how far the implicit reward sits below the learner's reward."""
        return self.beta * self.log_z

    @property
    def top(self) -> PolicyBar:
        return max(self.bars, key=lambda bar: bar.pi_star)

    @property
    def betas_json(self) -> str:
        return json.dumps([f"{b:g}" for b in self.betas])


def beta_index(raw: str | None) -> int:
    """The slider's stop; anything unreadable or out of range falls back to DPO's 0.1."""
    index = parse_int(raw, max_digits=3, maximum=len(BETAS) - 1)
    return DEFAULT_BETA_INDEX if index is None else index


def policy_view(
    *, fit: RewardFit | None, prompt_slug: str | None, beta_index: int
) -> PolicyView | None:
    """pi* for one held-out prompt at one beta, read from the learner's stored fit; `fit`
    None means the learner has no finished session yet (zero reward: pi* is pi_ref)."""
    prompts = catalog.heldout_prompts()
    if not prompts:
        return None
    prompt = next((p for p in prompts if p.slug == prompt_slug), prompts[0])
    candidates = prompt.candidate_list
    if fit is not None:
        model = model_at(fit, reward.DEFAULT_LAMBDA)
        table = fit.policy[str(prompt.pk)]
    else:
        model = reward.fit_reward_model([], catalog.trait_space().slugs)
        table = policy_table(prompt, np.zeros(len(candidates)))
    row = table["betas"][beta_index]
    space = catalog.trait_space()
    matrix = np.stack([space.vector(c.traits) for c in candidates])
    bars = [
        PolicyBar(
            candidate=c,
            reward=table["rewards"][i],
            pi_ref=table["pi_ref"][i],
            pi_star=row["pi"][i],
            implicit_reward=row["implicit"][i],
            y=charts.svg_number(i * charts.POLICY_ROW),
        )
        for i, c in enumerate(candidates)
    ]
    return PolicyView(
        prompts=prompts,
        prompt=prompt,
        beta=BETAS[beta_index],
        beta_index=beta_index,
        bars=bars,
        expected_reward=row["expected"],
        reference_reward=table["reference"],
        kl=row["kl"],
        log_z=row["log_z"],
        has_profile=fit is not None,
        model=model,
        spread=reward.reward_spread(model, matrix),
        best_of_n=best_of_n_rows(candidates, table["rewards"]),
        chart=charts.policy_chart(len(bars)),
    )
