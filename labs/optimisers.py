"""Step the optimisers yourself: policy gradient with a KL penalty, and DPO on the learner's
own picks. Pure numpy, no Django: plain data in, plain data out.

Both labs are recomputed from the start on every request from ``(seed, steps, settings)``,
so a page is a plain GET whose URL is the whole state. The work is bounded by
:data:`MAX_STEPS`.

**Policy gradient.** One held-out prompt, a softmax policy ``pi = softmax(theta)`` over its
candidates, starting at ``pi_ref``. The objective is InstructGPT's KL-penalised reward
(Ouyang et al., arXiv 2203.02155)::

    J(theta) = E_pi[r(y)] - beta * KL(pi || pi_ref) = E_pi[ r(y) - beta * log(pi(y)/pi_ref(y)) ]

whose exact maximiser is ``pi*_beta ∝ pi_ref * exp(r / beta)`` (Rafailov et al., DPO,
arXiv 2305.18290, eq. 4; :func:`labeling.reward.optimal_policy`). Its gradient is
``dJ/dtheta_j = pi_j (s_j - E_pi[s])`` with the *score* ``s = r - beta log(pi/pi_ref)``
(the term from differentiating the log-ratio itself has mean zero under pi). Each step
samples a batch of k answers with a seeded :class:`numpy.random.Generator` and follows
REINFORCE (Williams 1992) with a leave-one-out baseline, which keeps the estimate unbiased.
At ``pi*`` every answer's score equals ``beta log Z``: every sampled advantage is exactly
zero, so the stochastic updates stop at the optimum instead of jittering around it.

The PPO variant (Schulman et al., "Proximal Policy Optimization Algorithms",
arXiv 1707.06347) samples a batch from the current policy, freezes it as ``pi_old``, then
takes several gradient steps on the clipped surrogate
``min(rho A, clip(rho, 1-eps, 1+eps) A)`` with ``rho = pi/pi_old``: once an answer's
probability has moved more than ``eps`` in the direction its advantage asks for, that
answer stops pushing. (With one step per batch rho = 1 and clipping would never act, which
is why PPO takes several.)

**DPO.** The learner's picks as (chosen, rejected) trait vectors. The tiny policy gives
each pair's prompt three outcomes, its two responses and "everything else the model could
write", with logits ``z(y) = v . traits(y)`` for the two responses and 0 for the rest, over
a reference that gives each response :data:`DPO_REF_SHARE`. One parameter per trait is
shared by every pair, as a network's weights are. The DPO loss of a pick is
``-log sigmoid(beta log(pi(c)/pi_ref(c)) - beta log(pi(l)/pi_ref(l)))``
(Rafailov et al.); here the margin is ``u . (traits(c) - traits(l))`` with ``u = beta v``,
so the implicit reward is linear in the traits with weights ``u``. Summed over the picks
with the same Gaussian prior as the learner's reward model (``lam/2 ||u||^2``), the DPO
loss *is* the Bradley–Terry loss of :func:`labeling.reward.fit_reward_model`; its unique
fixed point is the learner's own Bradley–Terry weights, which the tests check.

Because the parameters are shared and the rest of the vocabulary takes mass too, a pick
can push its own chosen response down while the margin still grows: DPO's "likelihood
displacement" (Razin et al., "Unintentional Unalignment: Likelihood Displacement in Direct
Preference Optimization", arXiv 2410.08847; Pal et al., "Smaug", arXiv 2402.13228). To
first order the chosen log-probability of a pick whose gradient is ``d = c - l`` moves by
``(d . c) - sum_y pi(y) (d . y)``: it falls when the chosen and rejected responses are
alike (``c . l > |c|^2`` with the rest holding most of the mass), the condition Razin et
al. derive for a model's last layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labeling import reward

FloatArray = npt.NDArray[np.float64]

#: The most optimiser steps one request may compute (a URL asking for more is refused).
MAX_STEPS = 1000

#: The largest seed a URL may carry (a seed is any whole number 0..MAX_SEED).
MAX_SEED = 999_999

#: Batch sizes, learning rates and betas the policy-gradient page offers, and its defaults.
#: Below beta = 0.1 the optimum is nearly one answer and sampling takes thousands of steps
#: to find the rare ones it should give up, so the page starts at 0.5.
PG_BATCHES = (2, 4, 8, 16, 32)
PG_LEARNING_RATES = (0.3, 1.0, 3.0)
PG_BETAS = (0.1, 0.2, 0.5, 1.0, 2.0)
PG_DEFAULTS = {"beta": 0.5, "batch": 8, "lr": 1.0}
#: PPO's clip range: 0.2 in Schulman et al. (arXiv 1707.06347, section 6.1).
PPO_EPSILON = 0.2
#: Gradient steps per sampled batch in the PPO variant (the paper used 3-15 "epochs").
PPO_EPOCHS = 4

#: Reference probability of each of a pair's two responses in the DPO lab's tiny policy;
#: the rest (1 - 2 * share) is everything else the model could write.
DPO_REF_SHARE = 0.25
#: DPO's beta values on the page; 0.1 is the paper's default.
DPO_BETAS = (0.05, 0.1, 0.5, 1.0)
#: The step on the implicit reward weights u = beta * v per iteration (the step on the
#: policy's own parameters v is this / beta^2, so beta changes where the policy ends up,
#: not how many steps it takes to get there).
DPO_STEP = 0.3


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def softmax(theta: npt.ArrayLike) -> FloatArray:
    z = np.asarray(theta, dtype=np.float64)
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def kl(p: FloatArray, q: FloatArray) -> float:
    """KL(p || q) in nats for strictly positive q (0 log 0 = 0); fast, no validation."""
    used = p > 0
    return max(float(np.sum(p[used] * (np.log(p[used]) - np.log(q[used])))), 0.0)


def sample(rng: np.random.Generator, pi: FloatArray, size: int) -> npt.NDArray[np.int64]:
    """``size`` draws from ``pi`` by inverting its cumulative sum: one uniform per draw, so
    the same seed gives the same answers on every machine with the same numpy."""
    cumulative = np.cumsum(pi)
    u = rng.random(size) * cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, u, side="right"), pi.size - 1)


def check_seed(seed: int) -> int:
    if not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
        raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED}")
    return seed


def check_steps(steps: int) -> int:
    if not (isinstance(steps, int) and 0 <= steps <= MAX_STEPS):
        raise ValueError(f"the step count must be a whole number from 0 to {MAX_STEPS}")
    return steps


# ---------------------------------------------------------------------------
# Policy gradient with a KL penalty
# ---------------------------------------------------------------------------


def kl_objective(theta: npt.ArrayLike, pi_ref: FloatArray, r: FloatArray, beta: float) -> float:
    """J(theta) = E_pi[r] - beta KL(pi || pi_ref) for pi = softmax(theta)."""
    pi = softmax(theta)
    return float(pi @ r) - beta * kl(pi, pi_ref)


def kl_objective_gradient(
    theta: npt.ArrayLike, pi_ref: FloatArray, r: FloatArray, beta: float
) -> FloatArray:
    """Exact dJ/dtheta = pi * (s - E_pi[s]) with s = r - beta log(pi / pi_ref)."""
    pi = softmax(theta)
    s = r - beta * (np.log(pi) - np.log(pi_ref))
    return pi * (s - pi @ s)


@dataclass(frozen=True)
class PGSettings:
    beta: float
    batch: int = 8
    lr: float = 0.3
    clip: bool = False
    epsilon: float = PPO_EPSILON
    epochs: int = PPO_EPOCHS

    def __post_init__(self) -> None:
        if not (math.isfinite(self.beta) and self.beta > 0):
            raise ValueError("beta must be a finite number > 0")
        if not (2 <= self.batch <= 256):
            raise ValueError("the batch needs 2 to 256 answers (a baseline needs two)")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError("the learning rate must be a finite number > 0")


@dataclass(frozen=True)
class PGStep:
    """The policy after ``step`` updates and how far it is from where it should go."""

    step: int
    policy: FloatArray
    kl_to_optimum: float  # KL(pi || pi*_beta), nats
    kl_to_ref: float  # KL(pi || pi_ref), nats
    expected_reward: float
    objective: float  # E_pi[r] - beta KL(pi || pi_ref)
    #: Answers of this step's batch (empty at step 0) and their advantages.
    answers: tuple[int, ...] = ()
    advantages: tuple[float, ...] = ()
    #: PPO only: share of the batch whose gradient was switched off by the clip at the
    #: last inner step.
    clipped: float = 0.0


@dataclass(frozen=True, eq=False)
class PGRun:
    """Every step of a run as arrays; :meth:`step` gives one step as a :class:`PGStep`."""

    pi_ref: FloatArray
    rewards: FloatArray
    settings: PGSettings
    optimum: FloatArray
    optimum_objective: float
    #: (steps + 1, candidates) policies, step 0 = pi_ref.
    policies: FloatArray
    #: (steps, k) sampled answers and their advantages; (steps,) share clipped (PPO).
    answers: npt.NDArray[np.int64]
    advantages: FloatArray
    clipped: FloatArray
    #: (steps + 1,) KL to pi*, KL to pi_ref, expected reward, reward - beta KL.
    kl_to_optimum: FloatArray
    kl_to_ref: FloatArray
    expected_reward: FloatArray
    objective: FloatArray

    @property
    def n_steps(self) -> int:
        return self.policies.shape[0] - 1

    def step(self, index: int) -> PGStep:
        extra = {}
        if index > 0:
            extra = {
                "answers": tuple(int(a) for a in self.answers[index - 1]),
                "advantages": tuple(float(a) for a in self.advantages[index - 1]),
                "clipped": float(self.clipped[index - 1]),
            }
        return PGStep(
            step=index,
            policy=self.policies[index],
            kl_to_optimum=float(self.kl_to_optimum[index]),
            kl_to_ref=float(self.kl_to_ref[index]),
            expected_reward=float(self.expected_reward[index]),
            objective=float(self.objective[index]),
            **extra,
        )

    @property
    def steps(self) -> list[PGStep]:
        return [self.step(i) for i in range(self.n_steps + 1)]

    @property
    def final(self) -> PGStep:
        return self.step(self.n_steps)


def _kl_rows(p: FloatArray, q: FloatArray) -> FloatArray:
    """KL(p_t || q) for every row t of p (q strictly positive), clamped at 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return np.maximum(terms.sum(axis=1), 0.0)


def _leave_one_out(scores: FloatArray) -> FloatArray:
    """Each answer's score minus the mean of the *other* answers of its batch: a baseline
    that does not depend on the answer itself, so the estimate stays unbiased."""
    k = scores.size
    return scores - (scores.sum() - scores) / (k - 1)


def reinforce_gradient(
    pi: FloatArray, answers: npt.NDArray[np.int64], advantages: FloatArray
) -> FloatArray:
    """(1/k) sum_i A_i grad log pi(y_i) with grad_theta log pi(y) = e_y - pi."""
    k = answers.size
    return np.bincount(answers, weights=advantages, minlength=pi.size) / k - pi * (
        advantages.sum() / k
    )


def policy_gradient_run(
    pi_ref: npt.ArrayLike,
    rewards: npt.ArrayLike,
    settings: PGSettings,
    *,
    seed: int,
    steps: int,
) -> PGRun:
    """Run ``steps`` updates from pi_ref with the generator seeded by ``seed``."""
    check_seed(seed)
    check_steps(steps)
    ref = np.asarray(pi_ref, dtype=np.float64)
    ref = ref / ref.sum()
    if np.any(ref <= 0):
        raise ValueError("every candidate needs a reference probability > 0")
    r = np.asarray(rewards, dtype=np.float64)
    if r.shape != ref.shape:
        raise ValueError("one reward per candidate")
    beta, k = settings.beta, settings.batch
    optimum = reward.optimal_policy(ref, r, beta)
    log_ref = np.log(ref)
    rng = np.random.default_rng(seed)
    theta = log_ref.copy()
    policies = np.empty((steps + 1, ref.size))
    all_answers = np.empty((steps, k), dtype=np.int64)
    all_advantages = np.empty((steps, k))
    clipped = np.zeros(steps)
    pi = softmax(theta)
    policies[0] = pi
    for step in range(steps):
        answers = sample(rng, pi, k)
        scores = r[answers] - beta * (np.log(pi[answers]) - log_ref[answers])
        advantages = _leave_one_out(scores)
        if not settings.clip:
            theta = theta + settings.lr * reinforce_gradient(pi, answers, advantages)
        else:
            pi_old = pi[answers]
            current = pi
            for _ in range(settings.epochs):
                ratio = current[answers] / pi_old
                off = ((advantages > 0) & (ratio > 1 + settings.epsilon)) | (
                    (advantages < 0) & (ratio < 1 - settings.epsilon)
                )
                weights = np.where(off, 0.0, advantages * ratio)
                theta = theta + settings.lr * reinforce_gradient(current, answers, weights)
                current = softmax(theta)
            clipped[step] = off.mean()
        theta = theta - theta.max()  # softmax is shift-invariant; keep the numbers small
        pi = softmax(theta)
        policies[step + 1] = pi
        all_answers[step], all_advantages[step] = answers, advantages
    kl_to_ref = _kl_rows(policies, ref)
    expected = policies @ r
    return PGRun(
        pi_ref=ref,
        rewards=r,
        settings=settings,
        optimum=optimum,
        optimum_objective=float(optimum @ r) - beta * kl(optimum, ref),
        policies=policies,
        answers=all_answers,
        advantages=all_advantages,
        clipped=clipped,
        kl_to_optimum=_kl_rows(policies, optimum),
        kl_to_ref=kl_to_ref,
        expected_reward=expected,
        objective=expected - beta * kl_to_ref,
    )


# ---------------------------------------------------------------------------
# DPO on the learner's picks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DPOSettings:
    beta: float = 0.1
    #: The Gaussian prior's strength on u (None: plain DPO, no prior: with separable
    #: picks the margins then grow without end and the loss creeps towards 0).
    lam: float | None = reward.DEFAULT_LAMBDA
    step: float = DPO_STEP
    ref_share: float = DPO_REF_SHARE

    def __post_init__(self) -> None:
        if not (math.isfinite(self.beta) and self.beta > 0):
            raise ValueError("beta must be a finite number > 0")
        if self.lam is not None and not (math.isfinite(self.lam) and self.lam > 0):
            raise ValueError("the prior strength must be a finite number > 0, or None")
        if not (0 < self.ref_share < 0.5):
            raise ValueError("each response's reference share must be between 0 and 0.5")


@dataclass(frozen=True)
class DPOStep:
    step: int
    #: Mean DPO loss per pick (log 2 at the start, where the margin is 0).
    loss: float
    #: Implicit reward weights u = beta * v, one per trait.
    weights: FloatArray
    #: Per pick: implicit reward margin beta log(pi/pi_ref)(chosen) - (rejected).
    margins: FloatArray
    #: Per pick: log pi(chosen) and log pi(rejected) under the current policy.
    logp_chosen: FloatArray
    logp_rejected: FloatArray


@dataclass(frozen=True, eq=False)
class DPORun:
    """Every step as arrays (row t = after t steps); :meth:`step` gives one step."""

    settings: DPOSettings
    logp_ref: float  # log of the reference probability of every response
    weights: FloatArray  # (steps + 1, traits): u = beta v
    margins: FloatArray  # (steps + 1, picks)
    logp_chosen: FloatArray  # (steps + 1, picks)
    logp_rejected: FloatArray  # (steps + 1, picks)
    losses: FloatArray  # (steps + 1,) mean DPO loss per pick

    @property
    def n_steps(self) -> int:
        return self.weights.shape[0] - 1

    def step(self, index: int) -> DPOStep:
        return DPOStep(
            step=index,
            loss=float(self.losses[index]),
            weights=self.weights[index],
            margins=self.margins[index],
            logp_chosen=self.logp_chosen[index],
            logp_rejected=self.logp_rejected[index],
        )

    @property
    def steps(self) -> list[DPOStep]:
        return [self.step(i) for i in range(self.n_steps + 1)]

    @property
    def final(self) -> DPOStep:
        return self.step(self.n_steps)

    @property
    def displaced(self) -> list[bool]:
        """Per pick: did the chosen response end *less* likely than under the reference?"""
        return [bool(x < self.logp_ref - 1e-12) for x in self.logp_chosen[-1]]

    def first_fall(self) -> list[int | None]:
        """Per pick: the first step at which the chosen response's probability was below
        the reference (None: never)."""
        below = self.logp_chosen < self.logp_ref - 1e-12
        return [int(np.argmax(col)) if col.any() else None for col in below.T]


def _pair_log_probs(
    v: FloatArray, chosen: FloatArray, rejected: FloatArray, ref_share: float
) -> tuple[FloatArray, FloatArray]:
    """log pi(chosen), log pi(rejected) per pick for policy parameters v (or, with v of
    shape (traits, steps), per pick and step)."""
    zc, zl = chosen @ v, rejected @ v
    log_share, log_rest = math.log(ref_share), math.log(1 - 2 * ref_share)
    log_norm = np.logaddexp(np.logaddexp(log_share + zc, log_share + zl), log_rest)
    return log_share + zc - log_norm, log_share + zl - log_norm


def dpo_loss(u: npt.ArrayLike, differences: FloatArray, lam: float | None) -> float:
    """Summed DPO loss (plus the prior) as a function of u = beta v: the Bradley–Terry
    objective of :func:`labeling.reward.fit_reward_model`."""
    u = np.asarray(u, dtype=np.float64)
    total = float(np.logaddexp(0.0, -(differences @ u)).sum())
    return total + (0.0 if lam is None else 0.5 * lam * float(u @ u))


def dpo_gradient(u: npt.ArrayLike, differences: FloatArray, lam: float | None) -> FloatArray:
    """Exact gradient of :func:`dpo_loss` in u."""
    u = np.asarray(u, dtype=np.float64)
    margins = differences @ u
    pull = np.exp(-np.logaddexp(0.0, margins))  # sigmoid(-margin), overflow-free
    grad = -(pull @ differences)
    return grad if lam is None else grad + lam * u


def dpo_run(
    chosen: npt.ArrayLike, rejected: npt.ArrayLike, settings: DPOSettings, *, steps: int
) -> DPORun:
    """Gradient descent on the DPO loss from v = 0 (the policy starts at the reference).

    Deterministic: DPO needs no sampling, the picks are the whole data set."""
    check_steps(steps)
    c = np.atleast_2d(np.asarray(chosen, dtype=np.float64))
    rej = np.atleast_2d(np.asarray(rejected, dtype=np.float64))
    if c.shape != rej.shape or c.shape[0] == 0:
        raise ValueError("need one chosen and one rejected trait vector per pick")
    d = c - rej
    weights = np.zeros((steps + 1, d.shape[1]))
    u = weights[0]
    for step in range(1, steps + 1):
        # Descent on v with step settings.step / beta^2 moves u = beta v by settings.step
        # times the gradient in u.
        u = u - settings.step * dpo_gradient(u, d, settings.lam)
        weights[step] = u
    margins = weights @ d.T
    lc, lr = _pair_log_probs((weights / settings.beta).T, c, rej, settings.ref_share)
    return DPORun(
        settings=settings,
        logp_ref=math.log(settings.ref_share),
        weights=weights,
        margins=margins,
        logp_chosen=lc.T,
        logp_rejected=lr.T,
        losses=np.logaddexp(0.0, -margins).mean(axis=1),
    )


def dpo_fixed_point(
    chosen: npt.ArrayLike, rejected: npt.ArrayLike, trait_names: Sequence[str], lam: float
) -> FloatArray:
    """The closed form the DPO run converges to: the learner's Bradley–Terry weights at the
    same prior strength (fitted by scikit-learn, an independent solver)."""
    picks = reward.Picks(np.atleast_2d(chosen), np.atleast_2d(rejected))
    return reward.fit_reward_model(picks, list(trait_names), lam=lam).weights


def displacement_first_order(
    v: npt.ArrayLike, chosen: FloatArray, rejected: FloatArray, ref_share: float
) -> FloatArray:
    """Per pick, the first-order change of log pi(chosen) along that pick's own gradient
    direction d = c - l: ``d.c - sum_y pi(y) d.y`` (the rest of the vocabulary has logit 0).
    Negative: this pick alone pushes its chosen response down."""
    v = np.asarray(v, dtype=np.float64)
    d = chosen - rejected
    lc, lr = _pair_log_probs(v, chosen, rejected, ref_share)
    dc, dl = np.einsum("ij,ij->i", d, chosen), np.einsum("ij,ij->i", d, rejected)
    return dc - (np.exp(lc) * dc + np.exp(lr) * dl)
