"""Over-optimisation, computed exactly over a finite candidate set (no Django here).

A *proxy* reward (the learner's six-pick model) is optimised; a *gold* reward (a
better-informed model) scores the result. Two ways of optimising are swept:

- the KL-regularised optimum pi*_beta(y) ∝ pi_ref(y) · exp(r_proxy(y)/beta)
  (`labeling.reward.optimal_policy`) as beta falls from large to small, against
  sqrt(KL(pi*_beta ‖ pi_ref)), the x-axis of Gao et al., "Scaling Laws for Reward Model
  Overoptimization" (arXiv 2210.10760);
- best-of-n under the proxy: draw n answers from pi_ref and keep the one the proxy
  scores highest. Its distribution is exact by order statistics over the finite set,
  not sampled; its KL is plotted as log n − (n − 1)/n (Stiennon et al., arXiv
  2009.01325; Gao et al.), the exact KL of the finite set is reported beside it.

Each prompt's rewards are put in the same units before they are averaged: minus their
mean under pi_ref, divided by their standard deviation under pi_ref. Both curves then
start at 0 (the reference policy) and a move of 1 is one reference standard deviation,
whichever model's scale is larger. A prompt over which a reward is flat reads 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labeling import reward

FloatArray = npt.NDArray[np.float64]

#: The sweep: beta from 100 (stay with the reference) down to 0.001 (the proxy rules),
#: 49 points evenly spaced on a log scale, large to small.
SWEEP_BETAS: tuple[float, ...] = tuple(float(b) for b in np.geomspace(100.0, 0.001, 49))
#: Best-of-n: n = 1 … 64.
BON_MAX = 64
#: Proxy rewards closer than this are a tie (best-of-n picks among them at random).
TIE_TOLERANCE = 1e-9
#: The gold "turned down" when its last value is below its peak by more than this
#: (in reference standard deviations): less is rounding, not a fall.
TURN_TOLERANCE = 1e-3


@dataclass(frozen=True)
class PromptRewards:
    """One held-out prompt: the reference probabilities and both rewards per candidate."""

    pi_ref: FloatArray
    proxy: FloatArray
    gold: FloatArray

    @classmethod
    def of(cls, pi_ref: npt.ArrayLike, proxy: npt.ArrayLike, gold: npt.ArrayLike) -> PromptRewards:
        ref = np.asarray(pi_ref, dtype=np.float64)
        p = np.asarray(proxy, dtype=np.float64)
        g = np.asarray(gold, dtype=np.float64)
        if ref.ndim != 1 or ref.size == 0 or p.shape != ref.shape or g.shape != ref.shape:
            raise ValueError("pi_ref, proxy and gold need one value per candidate")
        if np.any(ref <= 0) or not np.all(np.isfinite(np.concatenate([ref, p, g]))):
            raise ValueError("pi_ref must be positive and every value finite")
        return cls(pi_ref=ref / ref.sum(), proxy=p, gold=g)


def standardise(pi_ref: FloatArray, rewards: FloatArray) -> FloatArray:
    """(r − E_ref[r]) / sd_ref(r); zeros when r is flat under pi_ref."""
    mean = float(pi_ref @ rewards)
    sd = math.sqrt(max(float(pi_ref @ (rewards - mean) ** 2), 0.0))
    if sd < 1e-12:
        return np.zeros_like(rewards)
    return (rewards - mean) / sd


def entropy_bits(pi: npt.ArrayLike) -> float:
    """Shannon entropy in bits, with 0 log 0 = 0."""
    p = np.asarray(pi, dtype=np.float64)
    used = p[p > 0]
    return max(float(-(used * np.log2(used)).sum()), 0.0)


def kl_bon(n: int) -> float:
    """log n − (n − 1)/n: the KL of best-of-n from the reference, in nats, as Stiennon et
    al. and Gao et al. plot it (exact for a continuous reward without ties; over a finite
    set it is an upper bound, see `best_of_n_policy`)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return math.log(n) - (n - 1) / n


def tie_levels(values: FloatArray, tol: float = TIE_TOLERANCE) -> npt.NDArray[np.int64]:
    """Each value's rank among the distinct values (0 = lowest); values within `tol` of
    the previous distinct value share its level."""
    order = np.argsort(values, kind="stable")
    levels = np.empty(values.size, dtype=np.int64)
    level, last = -1, -math.inf
    for i in order:
        if values[i] - last > tol:
            level += 1
            last = values[i]
        levels[i] = level
    return levels


def best_of_n_policy(pi_ref: FloatArray, proxy: FloatArray, n: int) -> FloatArray:
    """The exact distribution of best-of-n under the proxy: n independent draws from
    pi_ref, keep the draw with the highest proxy reward (ties: any rule that does not
    look at which tied candidate it is, e.g. the first drawn).

    With F(L) the reference mass of proxy levels ≤ L, the best draw is at level L with
    probability F(L)^n − F(L−1)^n (the maximum of n draws); within its level a draw is a
    candidate in proportion to pi_ref. n = 1 gives pi_ref; large n, the top level."""
    if n < 1:
        raise ValueError("n must be at least 1")
    levels = tie_levels(proxy)
    mass = np.bincount(levels, weights=pi_ref)
    cumulative = np.minimum(np.cumsum(mass), 1.0)
    below = np.concatenate([[0.0], cumulative[:-1]])
    level_prob = cumulative**n - below**n
    return level_prob[levels] * pi_ref / mass[levels]


@dataclass(frozen=True)
class SweepPoint:
    """pi*_beta averaged over the prompts (each prompt weighed equally)."""

    beta: float
    kl: float  # nats, mean over prompts
    proxy: float  # E[proxy] − E_ref[proxy], in reference standard deviations
    gold: float
    entropy_bits: float  # mean over prompts

    @property
    def sqrt_kl(self) -> float:
        return math.sqrt(self.kl)

    @property
    def beta_text(self) -> str:
        """β for a table: "∞" for the reference policy, else four significant digits."""
        return "∞" if math.isinf(self.beta) else f"{self.beta:.4g}"


@dataclass(frozen=True)
class BonPoint:
    n: int
    kl_bon: float  # log n − (n − 1)/n
    kl_exact: float  # the finite set's exact KL(best-of-n ‖ pi_ref), mean over prompts
    proxy: float
    gold: float

    @property
    def sqrt_kl(self) -> float:
        return math.sqrt(self.kl_bon)


def _standardised(
    prompts: Sequence[PromptRewards],
) -> list[tuple[PromptRewards, FloatArray, FloatArray]]:
    """Each prompt with its proxy and gold in reference standard deviations."""
    if not prompts:
        raise ValueError("need at least one prompt")
    return [(p, standardise(p.pi_ref, p.proxy), standardise(p.pi_ref, p.gold)) for p in prompts]


def reference_point(prompts: Sequence[PromptRewards]) -> SweepPoint:
    """beta = ∞: the reference policy itself (KL 0, no gain), where every curve starts."""
    if not prompts:
        raise ValueError("need at least one prompt")
    entropy = sum(entropy_bits(p.pi_ref) for p in prompts) / len(prompts)
    return SweepPoint(math.inf, 0.0, 0.0, 0.0, entropy)


def policy_point(prompts: Sequence[PromptRewards], beta: float) -> SweepPoint:
    return sweep(prompts, [beta])[0]


def optimal_policies(pi_ref: FloatArray, rewards: FloatArray, betas: FloatArray) -> FloatArray:
    """`labeling.reward.optimal_policy` at many betas at once: rewards (..., k), betas (B,)
    -> (..., B, k). Same log-space steps: the top reward is subtracted before dividing by
    beta, so a tiny beta cannot overflow and simply concentrates on the best answers."""
    shifted = (rewards - rewards.max(axis=-1, keepdims=True))[..., None, :] / betas[:, None]
    logits = np.log(pi_ref) + shifted
    logits -= logits.max(axis=-1, keepdims=True)
    pi = np.exp(logits)
    return pi / pi.sum(axis=-1, keepdims=True)


def _kl_rows(pi: FloatArray, pi_ref: FloatArray) -> FloatArray:
    """KL(pi ‖ pi_ref) along the last axis, 0 log 0 = 0 (pi_ref > 0 everywhere)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pi > 0, pi * (np.log(pi) - np.log(pi_ref)), 0.0)
    return np.maximum(terms.sum(axis=-1), 0.0)


def _entropy_rows(pi: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pi > 0, -pi * np.log2(pi), 0.0)
    return np.maximum(terms.sum(axis=-1), 0.0)


def sweep(
    prompts: Sequence[PromptRewards], betas: Iterable[float] = SWEEP_BETAS
) -> list[SweepPoint]:
    """The KL-regularised optimum at each beta, in the order given. beta is in the proxy's
    own units (pi* ∝ pi_ref · exp(r/beta) with the learner's reward r, as on the policy
    page); only the averages are standardised. Every beta at once, per prompt."""
    rows = _standardised(prompts)
    b = np.array(list(betas), dtype=np.float64)
    if np.any(~np.isfinite(b)) or np.any(b <= 0):
        raise ValueError("beta must be a finite number > 0")
    kl, proxy, gold, entropy = (np.zeros(b.size) for _ in range(4))
    for prompt, sp, sg in rows:
        pi = optimal_policies(prompt.pi_ref, prompt.proxy, b)  # (B, k)
        kl += _kl_rows(pi, prompt.pi_ref)
        proxy += pi @ sp
        gold += pi @ sg
        entropy += _entropy_rows(pi)
    k = len(rows)
    return [
        SweepPoint(float(b[i]), kl[i] / k, proxy[i] / k, gold[i] / k, entropy[i] / k)
        for i in range(b.size)
    ]


def best_of_n_policies(pi_ref: FloatArray, proxy: FloatArray, ns: Sequence[int]) -> FloatArray:
    """`best_of_n_policy` for every n at once: (N, k)."""
    n = np.array(ns, dtype=np.float64)
    if n.size and n.min() < 1:
        raise ValueError("n must be at least 1")
    levels = tie_levels(proxy)
    mass = np.bincount(levels, weights=pi_ref)
    cumulative = np.minimum(np.cumsum(mass), 1.0)
    below = np.concatenate([[0.0], cumulative[:-1]])
    level_prob = cumulative[None, :] ** n[:, None] - below[None, :] ** n[:, None]
    return level_prob[:, levels] * (pi_ref / mass[levels])[None, :]


def best_of_n_curve(prompts: Sequence[PromptRewards], ns: Iterable[int]) -> list[BonPoint]:
    rows = _standardised(prompts)
    n_list = [int(n) for n in ns]
    kl_exact, proxy, gold = (np.zeros(len(n_list)) for _ in range(3))
    for prompt, sp, sg in rows:
        pi = best_of_n_policies(prompt.pi_ref, prompt.proxy, n_list)  # (N, k)
        kl_exact += _kl_rows(pi, prompt.pi_ref)
        proxy += pi @ sp
        gold += pi @ sg
    k = len(rows)
    return [
        BonPoint(n, kl_bon(n), kl_exact[i] / k, proxy[i] / k, gold[i] / k)
        for i, n in enumerate(n_list)
    ]


@dataclass(frozen=True)
class Turn:
    """Where the gold peaked along a curve, and whether it came down after."""

    peak_index: int
    peak_gold: float
    last_gold: float

    @property
    def turned_down(self) -> bool:
        return self.peak_gold - self.last_gold > TURN_TOLERANCE

    @property
    def shape(self) -> str:
        """The curve's shape: "rise-then-fall" (Gao et al.'s curve), "falls" (down from
        the first point: proxy and gold disagree from the start) or "no-fall"."""
        if not self.turned_down:
            return "no-fall"
        return "rise-then-fall" if self.peak_index > 0 else "falls"

    @property
    def drop(self) -> float:
        return self.peak_gold - self.last_gold


def gold_turn(golds: Sequence[float]) -> Turn:
    """The peak of a gold curve (the first, if several are equal) and its last value."""
    if not golds:
        raise ValueError("empty curve")
    values = np.asarray(golds, dtype=np.float64)
    peak = int(np.argmax(values))
    return Turn(peak_index=peak, peak_gold=float(values[peak]), last_gold=float(values[-1]))


def candidate_strengths(
    n_candidates: int,
    comparisons: Sequence[tuple[int, int]],
    *,
    lam: float = reward.DEFAULT_LAMBDA,
) -> FloatArray:
    """Bradley–Terry scores of a prompt's candidates from the learner's own picks between
    them: (winner index, loser index) pairs. One score per candidate rather than one
    weight per trait, so it can rank answers the six traits cannot tell apart. The same
    L2 prior as the learner's reward model keeps it finite; an uncompared candidate
    scores 0, as does every candidate when there are no picks."""
    d = np.zeros((1, len(comparisons), n_candidates))
    for row, (winner, loser) in enumerate(comparisons):
        if winner == loser or not (0 <= winner < n_candidates and 0 <= loser < n_candidates):
            raise ValueError("a comparison needs two different candidates of the prompt")
        d[0, row, winner] = 1.0
        d[0, row, loser] = -1.0
    return reward.fit_reward_models(d, lam=lam)[0]


@dataclass(frozen=True)
class ManySweeps:
    """The sweep for many proxies against one gold at once: arrays (learners, betas)."""

    betas: FloatArray
    kl: FloatArray
    proxy: FloatArray
    gold: FloatArray

    @property
    def sqrt_kl(self) -> FloatArray:
        return np.sqrt(self.kl)


def sweep_many(
    pi_refs: Sequence[npt.ArrayLike],
    proxies: Sequence[npt.ArrayLike],
    golds: Sequence[npt.ArrayLike],
    betas: Sequence[float] = SWEEP_BETAS,
) -> ManySweeps:
    """`sweep` for L proxies at once, batched in numpy (the instructor's class view):
    pi_refs[j] and golds[j] are (k_j,) per prompt j, proxies[j] is (L, k_j). The same
    numbers as `sweep` learner by learner, without the reference point."""
    if not pi_refs:
        raise ValueError("need at least one prompt")
    b = np.asarray(betas, dtype=np.float64)
    n_learners = np.asarray(proxies[0]).reshape(-1, len(pi_refs[0])).shape[0]
    kl = np.zeros((n_learners, b.size))
    proxy_gain = np.zeros_like(kl)
    gold_gain = np.zeros_like(kl)
    for raw_ref, raw_proxy, raw_gold in zip(pi_refs, proxies, golds, strict=True):
        ref = np.asarray(raw_ref, dtype=np.float64)
        ref = ref / ref.sum()
        r = np.asarray(raw_proxy, dtype=np.float64).reshape(n_learners, ref.size)
        z_gold = standardise(ref, np.asarray(raw_gold, dtype=np.float64))
        mean = r @ ref
        sd = np.sqrt(np.maximum(((r - mean[:, None]) ** 2) @ ref, 0.0))
        z_proxy = np.where(
            sd[:, None] > 1e-12, (r - mean[:, None]) / np.where(sd > 0, sd, 1)[:, None], 0
        )
        pi = optimal_policies(ref, r, b)  # (L, B, k)
        kl += _kl_rows(pi, ref)
        proxy_gain += np.einsum("lbk,lk->lb", pi, z_proxy)
        gold_gain += pi @ z_gold
    k = len(pi_refs)
    return ManySweeps(betas=b, kl=kl / k, proxy=proxy_gain / k, gold=gold_gain / k)
