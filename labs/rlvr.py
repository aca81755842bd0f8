"""RL with verifiable rewards: checkers, GRPO on a tiny tabular policy, and rejection
sampling under the learner's reward model. Pure numpy, no Django.

**Checkers.** A task is checkable when a few lines of code can say whether an answer is
right: a sum, a unit conversion, "answer in exactly N words". The reward is the checker's
1 or 0 (Tülu 3's RLVR, Lambert et al., arXiv 2411.15124; DeepSeek-R1, arXiv 2501.12948):
there is no learned reward model whose flaws the policy could exploit.

**GRPO** (Shao et al., DeepSeekMath, arXiv 2402.03300). For every task the policy samples
a group of G answers; each answer's advantage is its reward minus the group's mean, divided
by the group's standard deviation. No value network. When every answer of a group scores
the same (all right or all wrong) the standard deviation is 0 and every advantage is 0: the
group teaches nothing, which is why a task the policy always gets right, or never does,
stops contributing. The update adds a KL penalty towards the reference policy; DeepSeekMath
estimates it per sample, here the policy is small enough to use the exact gradient of
KL(pi || pi_ref). With one gradient step per group the probability ratio is 1, so GRPO's
PPO-style clip never acts and is left out.

**Rejection sampling** (Llama 2, arXiv 2307.09288, section 3.2.3; Llama 3, arXiv
2407.21783): sample k answers per prompt from the current model, keep the one the reward
model scores highest, then fine-tune on the winners (SFT). The best-of-k distribution is
also computed exactly (order statistics over the finite candidate set) to compare.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from .optimisers import check_seed, check_steps, kl, sample, softmax

FloatArray = npt.NDArray[np.float64]

#: Group sizes and KL weights the GRPO page offers (settings for the lesson; the page
#: quotes no paper's values for them).
GROUP_SIZES = (2, 4, 8, 16, 64)
KL_WEIGHTS = (0.0, 0.04, 0.2, 1.0)
GRPO_LR = 0.5

#: Best-of-k sizes for rejection sampling, and how many prompts are drawn per round.
REJECTION_KS = (1, 2, 4, 8, 16)
REJECTION_DRAWS = 64
SFT_STEPS = 50
SFT_LR = 1.0

#: Conversion factors to a base unit per quantity; a conversion needs both units in one.
UNITS: dict[str, tuple[str, Fraction]] = {
    "mm": ("length", Fraction(1, 1000)),
    "cm": ("length", Fraction(1, 100)),
    "m": ("length", Fraction(1)),
    "km": ("length", Fraction(1000)),
    "g": ("mass", Fraction(1, 1000)),
    "kg": ("mass", Fraction(1)),
    "s": ("time", Fraction(1)),
    "min": ("time", Fraction(60)),
    "h": ("time", Fraction(3600)),
    "ml": ("volume", Fraction(1, 1000)),
    "l": ("volume", Fraction(1)),
}

#: A number as a checker reads it: ASCII digits only, an optional sign, thousands
#: separators and a decimal part ("2,500", "-3.5").
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?", re.ASCII)

OPERATIONS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


# ---------------------------------------------------------------------------
# Checkers
# ---------------------------------------------------------------------------


def last_number(text: str) -> Fraction | None:
    """The last number written in ``text`` (the final answer after any working)."""
    found = _NUMBER.findall(text)
    return Fraction(found[-1].replace(",", "")) if found else None


def word_count(text: str) -> int:
    return len(text.split())


def expected_answer(kind: str, params: Mapping) -> Fraction | int:
    """What the checker compares against: the result, or the required word count."""
    if kind == "arithmetic":
        op = OPERATIONS.get(params.get("op"))
        if op is None:
            raise ValueError(f"unknown operation {params.get('op')!r}")
        return op(Fraction(params["a"]), Fraction(params["b"]))
    if kind == "word_count":
        words = int(params["words"])
        if words < 1:
            raise ValueError("the word count must be at least 1")
        return words
    if kind == "unit_conversion":
        source, target = UNITS.get(params.get("from")), UNITS.get(params.get("to"))
        if source is None or target is None or source[0] != target[0]:
            raise ValueError("a conversion needs two known units of the same quantity")
        return Fraction(str(params["value"])) * source[1] / target[1]
    raise ValueError(f"unknown task kind {kind!r}")


def check(kind: str, params: Mapping, answer: str) -> int:
    """1 if the answer passes the task's checker, else 0."""
    expected = expected_answer(kind, params)
    if kind == "word_count":
        return int(word_count(answer) == expected)
    return int(last_number(answer) == expected)


# ---------------------------------------------------------------------------
# Tasks (plain data; the content comes from the database)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    label: str
    text: str
    ref_prob: float


@dataclass(frozen=True)
class Task:
    slug: str
    prompt: str
    kind: str
    params: Mapping
    answers: tuple[Answer, ...]
    scores: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        if len(self.answers) < 2:
            raise ValueError(f"task {self.slug!r} needs at least two candidate answers")
        object.__setattr__(
            self, "scores", tuple(check(self.kind, self.params, a.text) for a in self.answers)
        )

    @property
    def pi_ref(self) -> FloatArray:
        p = np.array([a.ref_prob for a in self.answers], dtype=np.float64)
        if np.any(p <= 0):
            raise ValueError(f"task {self.slug!r}: every answer needs a probability > 0")
        return p / p.sum()

    @property
    def correct(self) -> FloatArray:
        return np.array(self.scores, dtype=np.float64)


# ---------------------------------------------------------------------------
# GRPO
# ---------------------------------------------------------------------------


def group_advantages(rewards: npt.ArrayLike) -> FloatArray:
    """GRPO's (r - mean) / std over one group (population std); all zeros when every
    answer scored the same, since such a group says nothing about which answer is better."""
    r = np.asarray(rewards, dtype=np.float64)
    std = r.std()
    if std == 0:
        return np.zeros_like(r)
    return (r - r.mean()) / std


def kl_gradient(pi: FloatArray, pi_ref: FloatArray) -> FloatArray:
    """d KL(softmax(theta) || pi_ref) / d theta = pi * (log(pi/pi_ref) - KL)."""
    return kl_gradient_from_log_ratio(pi, np.log(pi) - np.log(pi_ref))


def kl_gradient_from_log_ratio(pi: FloatArray, log_ratio: FloatArray) -> FloatArray:
    """The same, from log(pi/pi_ref), over the last axis (one row per task)."""
    kl_now = (pi * log_ratio).sum(axis=-1, keepdims=True)
    return pi * (log_ratio - kl_now)


@dataclass(frozen=True)
class GRPOSettings:
    group: int = 8
    kl_weight: float = 0.04
    lr: float = GRPO_LR

    def __post_init__(self) -> None:
        if not (2 <= self.group <= 256):
            raise ValueError("a group needs 2 to 256 answers")
        if not (math.isfinite(self.kl_weight) and self.kl_weight >= 0):
            raise ValueError("the KL weight must be a finite number >= 0")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError("the learning rate must be a finite number > 0")


@dataclass(frozen=True)
class TaskStep:
    """One task at one step: its policy and, after step 0, the group it sampled."""

    policy: FloatArray
    accuracy: float  # probability that an answer drawn from the policy passes the checker
    kl_to_ref: float
    answers: tuple[int, ...] = ()
    rewards: tuple[int, ...] = ()
    advantages: tuple[float, ...] = ()

    @property
    def zero_advantage(self) -> bool:
        """The group scored all the same: nothing to learn from it this step."""
        return bool(self.answers) and not any(self.advantages)


@dataclass(frozen=True)
class GRPOStep:
    step: int
    tasks: tuple[TaskStep, ...]

    @property
    def accuracy(self) -> float:
        """Mean over tasks of each policy's chance of a right answer (exact, not sampled)."""
        return float(np.mean([t.accuracy for t in self.tasks]))

    @property
    def kl_to_ref(self) -> float:
        return float(np.mean([t.kl_to_ref for t in self.tasks]))

    @property
    def zero_advantage_groups(self) -> int:
        return sum(t.zero_advantage for t in self.tasks)

    @property
    def group_accuracy(self) -> float | None:
        """Share of this step's sampled answers that passed (None at step 0)."""
        rewards = [r for t in self.tasks for r in t.rewards]
        return sum(rewards) / len(rewards) if rewards else None


@dataclass(frozen=True, eq=False)
class GRPORun:
    """Every step of a run as arrays (steps x tasks x ...), with per-step views."""

    tasks: tuple[Task, ...]
    settings: GRPOSettings
    #: (steps + 1, tasks, answers) policies; padding columns (shorter tasks) hold 0.
    policies: FloatArray
    #: (steps, tasks, G) sampled answers, their 0/1 rewards and their advantages.
    answers: npt.NDArray[np.int64]
    rewards: FloatArray
    advantages: FloatArray
    #: (steps + 1, tasks) exact accuracy and KL to the reference per task.
    accuracies: FloatArray
    kls: FloatArray

    @property
    def n_steps(self) -> int:
        return self.policies.shape[0] - 1

    @property
    def accuracy(self) -> FloatArray:
        """Mean accuracy over tasks, per step (0 .. n_steps)."""
        return self.accuracies.mean(axis=1)

    @property
    def kl_to_ref(self) -> FloatArray:
        return self.kls.mean(axis=1)

    @property
    def zero_advantage(self) -> npt.NDArray[np.bool_]:
        """(steps + 1, tasks): the group scored all the same (never at step 0)."""
        flat = np.all(self.advantages == 0, axis=2)
        return np.vstack([np.zeros((1, len(self.tasks)), dtype=bool), flat])

    @property
    def zero_advantage_groups(self) -> npt.NDArray[np.int64]:
        return self.zero_advantage.sum(axis=1)

    def step(self, index: int) -> GRPOStep:
        records = []
        for i, task in enumerate(self.tasks):
            n = len(task.answers)
            extra = {}
            if index > 0:
                extra = {
                    "answers": tuple(int(a) for a in self.answers[index - 1, i]),
                    "rewards": tuple(int(r) for r in self.rewards[index - 1, i]),
                    "advantages": tuple(float(a) for a in self.advantages[index - 1, i]),
                }
            records.append(
                TaskStep(
                    policy=self.policies[index, i, :n],
                    accuracy=float(self.accuracies[index, i]),
                    kl_to_ref=float(self.kls[index, i]),
                    **extra,
                )
            )
        return GRPOStep(index, tuple(records))

    @property
    def steps(self) -> list[GRPOStep]:
        return [self.step(i) for i in range(self.n_steps + 1)]

    @property
    def final(self) -> GRPOStep:
        return self.step(self.n_steps)


def grpo_run(tasks: Sequence[Task], settings: GRPOSettings, *, seed: int, steps: int) -> GRPORun:
    """``steps`` GRPO updates from the reference policies, one seeded generator for all
    tasks, so a URL's (seed, steps, G, KL weight) is the whole state. All tasks step
    together as one padded array (a shorter task's extra columns have probability 0)."""
    check_seed(seed)
    check_steps(steps)
    if not tasks:
        raise ValueError("GRPO needs at least one task")
    n_tasks, width, g = len(tasks), max(len(t.answers) for t in tasks), settings.group
    valid = np.zeros((n_tasks, width), dtype=bool)
    ref = np.zeros((n_tasks, width))
    correct = np.zeros((n_tasks, width))
    for i, task in enumerate(tasks):
        n = len(task.answers)
        valid[i, :n] = True
        ref[i, :n] = task.pi_ref
        correct[i, :n] = task.correct
    # Padding columns get a huge negative logit rather than -inf: their probability is
    # exactly 0 and every product with it stays finite.
    log_ref = np.where(valid, np.log(np.where(valid, ref, 1.0)), -1e9)
    rows = np.arange(n_tasks)[:, None]
    columns = np.arange(width)

    def log_policy(theta: FloatArray) -> FloatArray:
        z = theta - theta.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    rng = np.random.default_rng(seed)
    theta = log_ref.copy()
    log_pi = log_policy(theta)
    pi = np.exp(log_pi)
    policies = np.empty((steps + 1, n_tasks, width))
    all_answers = np.empty((steps, n_tasks, g), dtype=np.int64)
    all_rewards = np.empty((steps, n_tasks, g))
    all_advantages = np.empty((steps, n_tasks, g))
    policies[0] = pi
    right = correct > 0
    for step in range(steps):
        cumulative = np.cumsum(pi, axis=1)
        u = rng.random((n_tasks, g)) * cumulative[:, -1:]
        answers = np.minimum((cumulative[:, None, :] <= u[:, :, None]).sum(axis=2), width - 1)
        rewards = correct[rows, answers]
        # Rewards are 0 or 1, so a group's population std is sqrt(m (1 - m)) and every
        # right answer shares one advantage, every wrong one another (0 when std = 0:
        # see group_advantages, which the tests check this against).
        m = rewards.mean(axis=1, keepdims=True)
        sd = np.sqrt(m * (1 - m))
        has = sd > 0
        sd = np.where(has, sd, 1.0)
        a_right = np.where(has, (1 - m) / sd, 0.0)
        a_wrong = np.where(has, -m / sd, 0.0)
        advantages = np.where(rewards > 0, a_right, a_wrong)
        counts = (answers[:, :, None] == columns).sum(axis=1)
        # (1/G) sum_i A_i (e_{y_i} - pi); the pi term vanishes because the A_i sum to 0.
        policy_grad = counts * np.where(right, a_right, a_wrong) / g
        kl_grad = kl_gradient_from_log_ratio(pi, log_pi - log_ref)
        theta = theta + settings.lr * (policy_grad - settings.kl_weight * kl_grad)
        log_pi = log_policy(theta)
        pi = np.exp(log_pi)
        policies[step + 1] = pi
        all_answers[step], all_rewards[step], all_advantages[step] = answers, rewards, advantages
    accuracies = (policies * correct).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(valid & (policies > 0), policies * (np.log(policies) - log_ref), 0.0)
    kls = np.maximum(terms.sum(axis=2), 0.0)
    return GRPORun(
        tasks=tuple(tasks),
        settings=settings,
        policies=policies,
        answers=all_answers,
        rewards=all_rewards,
        advantages=all_advantages,
        accuracies=accuracies,
        kls=kls,
    )


# ---------------------------------------------------------------------------
# Rejection sampling: best-of-k under a reward model, then SFT on the winners
# ---------------------------------------------------------------------------


def best_of_k_exact(pi: npt.ArrayLike, rewards: npt.ArrayLike, k: int) -> FloatArray:
    """The exact distribution of the best of k independent draws from pi, by reward.

    P(best reward = r) = F(<= r)^k - F(< r)^k over the candidates' CDF in reward order;
    tied candidates share their level's mass in proportion to pi (the first drawn of them
    is kept, and each is equally likely to be drawn first per unit of probability)."""
    p = np.asarray(pi, dtype=np.float64)
    r = np.asarray(rewards, dtype=np.float64)
    if k < 1:
        raise ValueError("k must be at least 1")
    out = np.zeros_like(p)
    for level in np.unique(r):
        tied = r == level
        below, at_most = p[r < level].sum(), p[r <= level].sum()
        mass = at_most**k - below**k
        share = p[tied].sum()
        if share > 0:
            out[tied] = mass * p[tied] / share
    return out


@dataclass(frozen=True)
class RejectionRound:
    k: int
    #: How many prompts were drawn, and how often each candidate won.
    draws: int
    wins: npt.NDArray[np.int64]
    #: The winners' share, the exact best-of-k distribution and the SFT'd policy.
    winners: FloatArray
    exact: FloatArray
    policy: FloatArray
    pi_ref: FloatArray
    rewards: FloatArray

    @property
    def reward_before(self) -> float:
        return float(self.pi_ref @ self.rewards)

    @property
    def reward_after(self) -> float:
        return float(self.policy @ self.rewards)

    @property
    def kl_to_ref(self) -> float:
        return kl(self.policy, self.pi_ref)

    @property
    def kl_bound(self) -> float:
        """log k - (k-1)/k: best-of-k's KL from the reference with distinct rewards and
        continuous outputs (Stiennon et al.; Gao et al.); over a finite set it is an upper
        bound."""
        return math.log(self.k) - (self.k - 1) / self.k


def sft(pi_start: FloatArray, targets: FloatArray, *, steps: int, lr: float) -> FloatArray:
    """Gradient ascent on the mean log-likelihood of the winners (their share ``targets``)
    from ``pi_start``: the gradient is ``targets - pi``, its fixed point ``pi = targets``."""
    theta = np.log(pi_start)
    for _ in range(steps):
        theta = theta + lr * (targets - softmax(theta))
    return softmax(theta)


def rejection_sampling(
    pi_ref: npt.ArrayLike,
    rewards: npt.ArrayLike,
    *,
    k: int,
    seed: int,
    draws: int = REJECTION_DRAWS,
    sft_steps: int = SFT_STEPS,
    lr: float = SFT_LR,
) -> RejectionRound:
    """One round: ``draws`` times, sample k answers from pi_ref and keep the reward
    model's favourite (the first drawn on a tie); then SFT on the winners."""
    check_seed(seed)
    if not (1 <= k <= 64):
        raise ValueError("k must be from 1 to 64")
    ref = np.asarray(pi_ref, dtype=np.float64)
    ref = ref / ref.sum()
    r = np.asarray(rewards, dtype=np.float64)
    rng = np.random.default_rng(seed)
    samples = sample(rng, ref, draws * k).reshape(draws, k)
    # argmax returns the first maximum: the first drawn of tied answers.
    winners = samples[np.arange(draws), np.argmax(r[samples], axis=1)]
    wins = np.bincount(winners, minlength=ref.size)
    share = wins / draws
    return RejectionRound(
        k=k,
        draws=draws,
        wins=wins,
        winners=share,
        exact=best_of_k_exact(ref, r, k),
        # A candidate that never won gets a little mass back from the softmax: SFT moves
        # towards the winners' share and stops after a fixed number of steps.
        policy=sft(ref, share, steps=sft_steps, lr=lr),
        pi_ref=ref,
        rewards=r,
    )
