"""Pure reward-modelling core for the "label six pairs, then see RLHF/DPO" page.

A learner labels preference pairs whose responses are described by trait
vectors (e.g. concise, hedges, refuses, formal, asks_clarifying, warm, each in
[0, 1]).  This module turns those picks into everything the page shows:

* per-trait tallies with a plain-language sentence,
* a Bradley-Terry reward model ``r(y) = w . traits(y)`` fitted to the picks
  under a Gaussian prior of explicit strength ``lam``, at one strength or at
  each of :data:`LAMBDA_STEPS`, and a check of what the pairs can tell apart,
* best-of-n selection with that reward,
* the exact KL-regularised optimal policy over a prompt's candidates, the DPO
  implicit reward, KL and expected reward (to show how they move with beta),
* a "constitution" AI labeler that scores pairs with principle weights, and
  its agreement with the learner on the pairs where it has a preference.

Deliberately free of Django: plain data in (dataclasses, sequences, numpy
arrays), plain data out.  Views load traits/phrases from the database, convert
them with :func:`trait_vector`, and call these functions.  That keeps the maths
unit-testable without a database and reusable for a whole class of learners.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

FloatArray = npt.NDArray[np.float64]

#: Trait values are compared on a grid of this many steps per unit (hundredths):
#: each value is rounded to the grid before two are subtracted, so equal-looking
#: gaps are equal.  In binary floating point 0.4 - 0.3 > 0.1 but 0.5 - 0.4 < 0.1
#: (Goldberg, "What every computer scientist should know about floating-point
#: arithmetic", ACM Computing Surveys 23(1), 1991); on the grid both are 10.
TRAIT_GRID = 100

#: A pair counts as differing on a trait in the tallies when the gap is at least
#: this much (gap >= threshold, compared on the grid).  A 0.1 gap is one a
#: reader can see in the content, so it counts, always; a 0.05 gap does not, as
#: it would credit the learner with a preference they never expressed.
DEFAULT_TALLY_THRESHOLD = 0.1

#: L2 strength of the Bradley-Terry fit, per pick: the fit minimises
#: ``sum_picks -log sigmoid(w . d) + (lam / 2) ||w||^2``, i.e. it is the most
#: probable ``w`` under a Gaussian prior N(0, 1/lam) on each weight (see
#: :func:`fit_reward_model`).  Six picks on six independent pairs are always
#: linearly separable, so without the prior the weights would run off to infinity.
#:
#: lam = 0.1 is a prior standard deviation of sqrt(10) = 3.2 per weight, a weakly
#: informative scale in the sense of Gelman et al., "A weakly informative default
#: prior distribution for logistic and other regression models", Annals of
#: Applied Statistics 2(4), 2008.  A pick pattern is *consistent* when some
#: weight vector ranks every chosen response above its rejected one
#: (``w . d > 0`` for every pick: the picks are linearly separable); with six
#: independent pairs all 64 patterns are.  At lam = 0.1 every consistent
#: learner's model reproduces all their picks: for each of the 64 patterns of
#: the shipped pairs every pick gets P(chosen) > 0.5 (the lowest is 0.60), with
#: every |weight| < 3 (a full 0-to-1 trait gap changes the odds at most 20-fold).
#: It is the strongest of :data:`LAMBDA_STEPS` that does so on the first shipped
#: pairs too: 0.3 failed 8 of their 64 patterns and passes the current ones
#: only by 0.003.
#: The old lam = 1 (scikit-learn's C = 1) let the prior win: on the first pairs
#: P(own pick) ran 0.47-0.70, and an all-A learner was told their model gave 47 %
#: to one of their own picks.  For a class-sized fit the prior is negligible.
DEFAULT_LAMBDA = 0.1

#: Prior strengths a learner can step through, weak to strong (the default among
#: them): from "the model follows every pick" (0.01, weights up to about 6) to
#: "the prior flattens everything towards a coin flip" (3).
LAMBDA_STEPS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)

#: Loss of the all-zero ("coin flip") reward model on any pick: -log(1/2).
#: Useful on the page as the baseline the learner's fitted loss is compared to.
COIN_FLIP_LOSS = math.log(2.0)

#: Weighted scores closer than this count as a tie for the constitution labeler,
#: so that e.g. 0.1 + 0.2 vs 0.3 is a tie rather than a floating-point accident.
DEFAULT_TIE_TOLERANCE = 1e-9


# ---------------------------------------------------------------------------
# Input containers and validation
# ---------------------------------------------------------------------------


def _vector(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a finite 1-D float array (a copy), or raise ValueError."""
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def _matrix(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a finite 2-D float array (a copy), or raise ValueError."""
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be two-dimensional (rows x traits), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def _frozen(arr: FloatArray) -> FloatArray:
    """Mark an array read-only so frozen dataclasses really are immutable."""
    arr.setflags(write=False)
    return arr


def trait_vector(values: Mapping[str, float], trait_names: Sequence[str]) -> FloatArray:
    """Order a ``{trait: value}`` mapping (as stored in the database) into a vector.

    Every function here works on vectors in ``trait_names`` order; doing the
    conversion in one place means a missing or misspelt trait fails loudly
    instead of silently shifting columns.
    """
    missing = [name for name in trait_names if name not in values]
    if missing:
        raise ValueError(f"missing trait values: {', '.join(missing)}")
    extra = sorted(set(values) - set(trait_names))
    if extra:
        raise ValueError(f"unknown traits: {', '.join(extra)}")
    return _vector([values[name] for name in trait_names], "trait values")


@dataclass(frozen=True, eq=False)
class Comparison:
    """One labelled pick: the trait vector of the chosen and of the rejected response."""

    chosen: FloatArray
    rejected: FloatArray

    def __post_init__(self) -> None:
        chosen = _vector(self.chosen, "chosen")
        rejected = _vector(self.rejected, "rejected")
        if chosen.shape != rejected.shape:
            raise ValueError("chosen and rejected must have the same number of traits")
        object.__setattr__(self, "chosen", _frozen(chosen))
        object.__setattr__(self, "rejected", _frozen(rejected))


@dataclass(frozen=True, eq=False)
class Picks:
    """Many picks as two aligned ``(n, k)`` matrices.

    The matrix form exists so a whole class (10,000 learners x 6 picks) can be
    fitted without building 60,000 small objects; :class:`Comparison` lists are
    converted to it with :meth:`from_comparisons`.
    """

    chosen: FloatArray
    rejected: FloatArray

    def __post_init__(self) -> None:
        chosen = _matrix(self.chosen, "chosen")
        rejected = _matrix(self.rejected, "rejected")
        if chosen.shape != rejected.shape:
            raise ValueError(
                f"chosen {chosen.shape} and rejected {rejected.shape} must have the same shape"
            )
        object.__setattr__(self, "chosen", _frozen(chosen))
        object.__setattr__(self, "rejected", _frozen(rejected))

    @classmethod
    def from_comparisons(cls, comparisons: Sequence[Comparison], n_traits: int) -> "Picks":
        """Stack comparisons; ``n_traits`` is needed so zero picks still have a shape."""
        if not comparisons:
            return cls(np.empty((0, n_traits)), np.empty((0, n_traits)))
        return cls(
            np.stack([c.chosen for c in comparisons]),
            np.stack([c.rejected for c in comparisons]),
        )

    @property
    def n_picks(self) -> int:
        return int(self.chosen.shape[0])

    @property
    def n_traits(self) -> int:
        return int(self.chosen.shape[1])

    @property
    def differences(self) -> FloatArray:
        """``chosen - rejected`` per pick: all Bradley-Terry needs from a pick."""
        return self.chosen - self.rejected


def _coerce_picks(picks: Picks | Sequence[Comparison], n_traits: int) -> Picks:
    """Accept either input form and check it has one column per trait name."""
    if not isinstance(picks, Picks):
        picks = Picks.from_comparisons(list(picks), n_traits)
    if picks.n_traits != n_traits:
        raise ValueError(
            f"picks have {picks.n_traits} traits but {n_traits} trait names were given"
        )
    return picks


# ---------------------------------------------------------------------------
# (a) Trait tallies
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TraitTally:
    """How the learner's picks lean on one trait, with the sentence the page shows."""

    trait: str
    phrase: str
    #: Pairs where the two responses differed on this trait by at least the threshold.
    differing: int
    #: Of those, how many times the learner chose the response with MORE of the trait.
    chose_more: int
    sentence: str

    @property
    def chose_less(self) -> int:
        return self.differing - self.chose_more

    @property
    def share_more(self) -> float | None:
        """Fraction of differing pairs where the learner chose more; None if none differed."""
        return self.chose_more / self.differing if self.differing else None


def _grid(values: FloatArray) -> npt.NDArray[np.int64]:
    """Values as whole grid steps (hundredths), rounded to nearest, ties to even."""
    return np.rint(values * TRAIT_GRID).astype(np.int64)


def _on_grid(value: float) -> int | None:
    """``value`` in whole grid steps, or None if it is not finite or not on the grid."""
    if not math.isfinite(value):
        return None
    steps = round(value * TRAIT_GRID)
    return steps if math.isclose(steps, value * TRAIT_GRID, abs_tol=1e-6) else None


def tally_sentence(phrase: str, chose_more: int, differing: int) -> str:
    """The plain-language tally, e.g. "You chose the more concise answer in 2 of 2 pairs ..."."""
    if differing == 0:
        return "No pair differed on this trait."
    noun = "pair" if differing == 1 else "pairs"
    return (
        f"You chose the {phrase} answer in {chose_more} of {differing} {noun} where they differed."
    )


def trait_tallies(
    picks: Picks | Sequence[Comparison],
    trait_names: Sequence[str],
    *,
    phrases: Mapping[str, str],
    threshold: float = DEFAULT_TALLY_THRESHOLD,
) -> list[TraitTally]:
    """Count, per trait, how often the learner chose the response with more of it.

    A pair counts for a trait when its two responses differ on it by at least
    ``threshold`` (a gap equal to the threshold counts): on a pair where both
    answers are equally concise, the pick says nothing about conciseness.
    Values are compared on the :data:`TRAIT_GRID` (each rounded to the nearest
    hundredth, ties to even, before subtracting), so 0.4 vs 0.3 and 0.5 vs 0.4
    are the same 0.1 gap and are counted alike.  ``threshold`` must itself lie
    on the grid and be at least one step.  ``phrases`` maps each trait to the
    comparative phrase used in the sentence (``{"concise": "more concise"}``);
    it comes from the database so copy can change without code changes, and a
    missing phrase raises rather than rendering a clumsy generated one.
    """
    steps = _on_grid(threshold)
    if steps is None or steps < 1:
        raise ValueError(f"threshold must be a multiple of 1/{TRAIT_GRID} and at least one step")
    missing = [name for name in trait_names if name not in phrases]
    if missing:
        raise ValueError(f"missing phrases for traits: {', '.join(missing)}")
    p = _coerce_picks(picks, len(trait_names))
    gaps = _grid(p.chosen) - _grid(p.rejected)
    tallies = []
    for j, name in enumerate(trait_names):
        column = gaps[:, j]
        differing = int(np.count_nonzero(np.abs(column) >= steps))
        chose_more = int(np.count_nonzero(column >= steps))
        phrase = phrases[name]
        tallies.append(
            TraitTally(
                trait=name,
                phrase=phrase,
                differing=differing,
                chose_more=chose_more,
                sentence=tally_sentence(phrase, chose_more, differing),
            )
        )
    return tallies


# ---------------------------------------------------------------------------
# (b) Bradley-Terry reward model
# ---------------------------------------------------------------------------


def _sigmoid(x: npt.ArrayLike) -> FloatArray:
    """Logistic function via logaddexp, so large |x| never overflows."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))


def _neg_log_sigmoid(x: npt.ArrayLike) -> FloatArray:
    """``-log sigmoid(x)`` computed as ``log(1 + exp(-x))`` without overflow."""
    return np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))


@dataclass(frozen=True, eq=False)
class RewardModel:
    """A linear Bradley-Terry reward ``r(y) = weights . traits(y)``.

    ``pick_losses``/``mean_loss`` are the Bradley-Terry losses on the picks the
    model was fitted to, which the page shows next to :data:`COIN_FLIP_LOSS`.
    """

    trait_names: tuple[str, ...]
    weights: FloatArray
    #: The L2 strength (Gaussian prior precision) the weights were fitted with.
    lam: float
    pick_losses: FloatArray
    #: None when there were no picks (a mean over nothing is undefined).
    mean_loss: float | None

    def __post_init__(self) -> None:
        weights = _vector(self.weights, "weights")
        if weights.shape != (len(self.trait_names),):
            raise ValueError("need exactly one weight per trait name")
        object.__setattr__(self, "trait_names", tuple(self.trait_names))
        object.__setattr__(self, "weights", _frozen(weights))
        object.__setattr__(
            self, "pick_losses", _frozen(np.array(self.pick_losses, dtype=np.float64))
        )

    def weights_by_trait(self) -> dict[str, float]:
        """Weights keyed by trait name, for templates."""
        return {name: float(w) for name, w in zip(self.trait_names, self.weights, strict=True)}

    def reward(self, traits: npt.ArrayLike) -> float:
        """Reward of one response (a trait vector)."""
        vec = _vector(traits, "traits")
        if vec.shape != self.weights.shape:
            raise ValueError(f"expected {self.weights.size} trait values, got {vec.size}")
        return float(vec @ self.weights)

    def rewards(self, traits_matrix: npt.ArrayLike) -> FloatArray:
        """Rewards of many responses, one per row of an ``(m, k)`` matrix."""
        mat = _matrix(traits_matrix, "traits_matrix")
        if mat.shape[1] != self.weights.size:
            raise ValueError(f"expected {self.weights.size} trait columns, got {mat.shape[1]}")
        return mat @ self.weights

    def preference_probability(self, a: npt.ArrayLike, b: npt.ArrayLike) -> float:
        """Bradley-Terry P(a preferred over b) = sigmoid(r(a) - r(b))."""
        return float(_sigmoid(self.reward(a) - self.reward(b)))

    def losses(self, picks: Picks | Sequence[Comparison]) -> FloatArray:
        """Per-pick loss ``-log sigmoid(r(chosen) - r(rejected))`` for any picks."""
        p = _coerce_picks(picks, self.weights.size)
        return _neg_log_sigmoid(p.differences @ self.weights)


def _validate_lam(lam: float) -> float:
    """lam is a prior precision: a positive finite number."""
    if not (math.isfinite(lam) and lam > 0):
        raise ValueError("lam must be a finite number > 0")
    return float(lam)


def fit_reward_model(
    picks: Picks | Sequence[Comparison],
    trait_names: Sequence[str],
    *,
    lam: float = DEFAULT_LAMBDA,
) -> RewardModel:
    """Fit Bradley-Terry weights by L2-regularised logistic regression.

    Minimises, over the weights ``w``::

        sum_picks -log sigmoid(w . d) + (lam / 2) * ||w||^2

    with ``d = traits(chosen) - traits(rejected)``: the Bradley-Terry loss
    (Bradley & Terry 1952, Biometrika 39; as a reward model, Christiano et al.
    2017, arXiv 1706.03741) plus an L2 penalty of strength ``lam``, which is
    the same as taking the most probable ``w`` under a Gaussian prior
    N(0, 1/lam) on each weight.  Bradley-Terry is logistic regression on ``d``
    with no intercept and every label 1; scikit-learn needs two classes, so
    each pick is entered twice, (d, 1) and (-d, 0), each with sample weight
    1/2 (sigmoid(-z) = 1 - sigmoid(z), so both rows carry the same loss), and
    scikit-learn's ``C`` is ``1 / lam`` (it minimises
    ``C * sum loss + ||w||^2 / 2``).  Its Newton solver, run to a 1e-12
    tolerance, agrees with :func:`fit_reward_models` to well under 1e-6.

    Degenerate input (no picks, no traits, or every pair identical) returns
    zero weights rather than raising: the page can still render the coin-flip
    model.  See :data:`DEFAULT_LAMBDA` for the default.  Nothing is memoised:
    the caller stores a learner's fit with their finished session.
    """
    lam = _validate_lam(lam)
    names = tuple(trait_names)
    p = _coerce_picks(picks, len(names))
    diffs = p.differences
    n, k = diffs.shape
    if n == 0 or k == 0 or not np.any(diffs):
        weights = np.zeros(k)
    else:
        weights = _logistic_regression_weights(diffs, lam)
    pick_losses = _neg_log_sigmoid(diffs @ weights)
    mean_loss = float(pick_losses.mean()) if n else None
    return RewardModel(
        trait_names=names,
        weights=weights,
        lam=lam,
        pick_losses=pick_losses,
        mean_loss=mean_loss,
    )


def _logistic_regression_weights(differences: FloatArray, lam: float) -> FloatArray:
    """scikit-learn's fit of the mirrored rows (see :func:`fit_reward_model`)."""
    n = differences.shape[0]
    features = np.vstack([differences, -differences])
    labels = np.concatenate([np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)])
    classifier = LogisticRegression(
        fit_intercept=False, C=1.0 / lam, solver="newton-cholesky", tol=1e-12, max_iter=1000
    )
    classifier.fit(features, labels, sample_weight=np.full(2 * n, 0.5))
    return np.array(classifier.coef_[0], dtype=np.float64)


def _batched_objective(
    differences: FloatArray, counts: FloatArray, weights: FloatArray, lam: FloatArray
) -> FloatArray:
    """Per learner: ``sum_m counts * -log sigmoid(w . d) + (lam / 2) ||w||^2``."""
    margins = np.einsum("lmk,lk->lm", differences, weights)
    data = (counts * _neg_log_sigmoid(margins)).sum(axis=1)
    return data + 0.5 * lam * (weights * weights).sum(axis=1)


def fit_reward_models(
    differences: npt.ArrayLike,
    counts: npt.ArrayLike | None = None,
    *,
    lam: float | npt.ArrayLike = DEFAULT_LAMBDA,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> FloatArray:
    """Bradley-Terry weights for many learners at once: the same objective as
    :func:`fit_reward_model`, solved for all of them together with Newton's method.

    ``differences`` is ``(n_learners, m, k)``: trait differences chosen - rejected of
    up to ``m`` picks per learner.  ``counts`` (``(n_learners, m)``, default all 1)
    weighs each row; 0 marks a missing pick, and a count ``c`` means "this pick, c
    times" — so a whole class can be fitted as ONE learner from a GROUP BY of its
    picks.  ``lam`` is one L2 strength for everyone or one per learner
    (``(n_learners,)``), which is how :func:`fit_reward_model_steps` fits one
    learner at several strengths in one go.  Returns the ``(n_learners, k)`` weights.

    Each learner minimises ``sum counts * log(1 + exp(-w . d)) + (lam / 2) ||w||^2``.
    The Hessian ``sum counts * s(1 - s) d d^T + lam I`` is positive definite, so
    the minimiser is unique and Newton's method (one ``(k, k)`` solve per learner,
    batched) with a halving line search converges from w = 0 in a few steps
    (Boyd & Vandenberghe, *Convex Optimization*, 2004, section 9.5).  A learner
    with no picks gets zero weights, as in :func:`fit_reward_model`.
    """
    d = np.array(differences, dtype=np.float64)
    if d.ndim != 3:
        raise ValueError(f"differences must be (learners, picks, traits), got shape {d.shape}")
    n_learners, m, k = d.shape
    c = np.ones((n_learners, m)) if counts is None else np.array(counts, dtype=np.float64)
    if c.shape != (n_learners, m):
        raise ValueError(f"counts must have shape {(n_learners, m)}, got {c.shape}")
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(c))):
        raise ValueError("differences and counts must be finite")
    if np.any(c < 0):
        raise ValueError("counts must be >= 0")
    strengths = np.array(lam, dtype=np.float64)
    if strengths.ndim not in (0, 1) or (strengths.ndim == 1 and strengths.shape != (n_learners,)):
        raise ValueError(f"lam must be a number or have shape {(n_learners,)}")
    if not (np.all(np.isfinite(strengths)) and np.all(strengths > 0)):
        raise ValueError("lam must be a finite number > 0")
    strengths = np.broadcast_to(strengths, (n_learners,))
    w = np.zeros((n_learners, k))
    if n_learners == 0 or k == 0:
        return w
    identity = np.eye(k)
    objective = _batched_objective(d, c, w, strengths)
    for _ in range(max_iter):
        margins = np.einsum("lmk,lk->lm", d, w)
        p_wrong = _sigmoid(-margins)  # 1 - P(chosen)
        gradient = strengths[:, None] * w - np.einsum("lm,lmk->lk", c * p_wrong, d)
        curvature = c * p_wrong * (1.0 - p_wrong)
        hessian = (
            np.einsum("lm,lmk,lmj->lkj", curvature, d, d) + strengths[:, None, None] * identity
        )
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        # Halve the step for the learners whose objective would not decrease.
        scale = np.ones(n_learners)
        candidate = w - step
        new_objective = _batched_objective(d, c, candidate, strengths)
        for _ in range(40):
            worse = new_objective > objective + 1e-15 * np.abs(objective)
            if not worse.any():
                break
            scale[worse] /= 2
            candidate[worse] = w[worse] - scale[worse, None] * step[worse]
            new_objective[worse] = _batched_objective(
                d[worse], c[worse], candidate[worse], strengths[worse]
            )
        w, objective = candidate, new_objective
        if np.max(np.abs(scale[:, None] * step)) < tol:
            break
    return w


def fit_reward_model_steps(
    picks: Picks | Sequence[Comparison],
    trait_names: Sequence[str],
    *,
    lams: Sequence[float] = LAMBDA_STEPS,
) -> tuple[RewardModel, ...]:
    """One learner's reward model at each prior strength in ``lams``, in that order.

    All strengths are fitted together by :func:`fit_reward_models` (Newton,
    batched over the strengths); each result is the minimiser of the objective
    in :func:`fit_reward_model` for its ``lam``, which scikit-learn gives too.
    Meant to be computed once when a session is finished and stored with it,
    so the page can let the learner move from a weak prior to a strong one.
    """
    strengths = [_validate_lam(lam) for lam in lams]
    names = tuple(trait_names)
    diffs = _coerce_picks(picks, len(names)).differences
    n = diffs.shape[0]
    stacked = np.broadcast_to(diffs, (len(strengths), *diffs.shape))
    weights = fit_reward_models(stacked, lam=np.array(strengths).reshape(len(strengths)))
    models = []
    for lam, w in zip(strengths, weights, strict=True):
        pick_losses = _neg_log_sigmoid(diffs @ w)
        models.append(
            RewardModel(
                trait_names=names,
                weights=w,
                lam=lam,
                pick_losses=pick_losses,
                mean_loss=float(pick_losses.mean()) if n else None,
            )
        )
    return tuple(models)


# ---------------------------------------------------------------------------
# (b2) What a pair set can tell apart
# ---------------------------------------------------------------------------

#: A direction in weight space whose singular value is below the largest one
#: divided by this is one the picks barely see.  Belsley, Kuh & Welsch
#: (*Regression Diagnostics*, Wiley 1980, ch. 3) read condition indexes near 10
#: as where weak dependencies between columns start to show in the estimates,
#: and 30 or more as strong ones; we warn from the first.  Near w = 0 the
#: Bradley-Terry Fisher information is ``D^T D / 4``, so such a direction
#: carries under 1/100 of the information of the best one.
DEFAULT_MAX_CONDITION = 10.0

#: A trait is poorly determined when at least this share of its unit vector's
#: squared length lies in the weak directions (its weight can slide by half a
#: unit or more while the picks barely notice).
_WEAK_SHARE = 0.25

#: Two poorly determined traits are confounded when the weak directions couple
#: them with at least this correlation (|P_jl| / sqrt(P_jj P_ll) of the
#: projector P onto the weak directions): they slide together, not separately.
_COUPLING = 0.5


@dataclass(frozen=True)
class DesignCheck:
    """What a set of pairs' trait differences can and cannot tell apart.

    ``confounded`` groups traits whose weights the pairs cannot separate from
    each other ("your six pairs cannot tell formal from warm"); ``invisible``
    lists traits the pairs barely vary at all, on their own.  Both are empty
    for a well-conditioned design.
    """

    #: Largest over smallest singular value of the pairs x traits matrix; inf
    #: when it is rank-deficient (fewer independent pairs than traits).
    condition_number: float
    #: All ``k`` singular values, largest first (zeros when pairs < traits).
    singular_values: tuple[float, ...]
    confounded: tuple[tuple[str, ...], ...]
    invisible: tuple[str, ...]


def design_check(
    differences: npt.ArrayLike,
    trait_names: Sequence[str],
    *,
    max_condition: float = DEFAULT_MAX_CONDITION,
) -> DesignCheck:
    """Condition number and confounded trait groups of a pair design.

    ``differences`` is the ``(pairs, traits)`` matrix ``D`` of trait values
    A - B (a learner's picks only flip row signs, which changes nothing here).
    Every pick's Bradley-Terry margin is ``D w``, so a weight direction ``v``
    with ``D v`` near 0 moves no margin: the picks cannot say how much of it
    the learner has.  With the SVD ``D = U S V^T`` (Golub & Van Loan, *Matrix
    Computations*, 4th ed., section 2.4), those are the right singular vectors
    whose singular value is below ``s_max / max_condition`` (including the
    null space when there are fewer pairs than traits).

    Let ``P`` project onto them.  Trait ``j`` is poorly determined when
    ``P_jj >= 1/4``; two poorly determined traits are confounded when
    ``|P_jl| >= sqrt(P_jj P_ll) / 2``; groups are the connected components
    (a trait alone in its group is ``invisible``).  ``P`` does not depend on
    which basis the SVD picks for repeated singular values, so two traits
    that are each never varied come out as two invisible traits, not as one
    confounded pair.  Trait values share one 0-1 scale, so columns are not
    rescaled (Belsley et al. scale to unit length because their columns have
    different units; here that would hide a trait the pairs barely vary).
    """
    names = tuple(trait_names)
    d = _matrix(differences, "differences")
    if d.shape[1] != len(names):
        raise ValueError(f"differences have {d.shape[1]} traits but {len(names)} names were given")
    if not names:
        raise ValueError("need at least one trait")
    if not (math.isfinite(max_condition) and max_condition > 1):
        raise ValueError("max_condition must be a finite number > 1")
    k = len(names)
    _, values, vt = np.linalg.svd(d if d.size else np.zeros((1, k)), full_matrices=True)
    singular = np.zeros(k)
    singular[: values.size] = values
    top = float(singular[0])
    tiny = top * max(d.shape) * np.finfo(np.float64).eps
    rank_deficient = top == 0.0 or singular[-1] <= tiny
    condition = math.inf if rank_deficient else top / float(singular[-1])
    weak = (singular <= tiny) | (singular < top / max_condition)
    projector = vt[weak].T @ vt[weak]
    share = np.diag(projector)
    poor = [j for j in range(k) if share[j] >= _WEAK_SHARE]
    group_of = {j: j for j in poor}

    def root(j: int) -> int:
        while group_of[j] != j:
            j = group_of[j]
        return j

    for a, j in enumerate(poor):
        for m in poor[a + 1 :]:
            if abs(projector[j, m]) >= _COUPLING * math.sqrt(share[j] * share[m]):
                group_of[root(m)] = root(j)
    groups: dict[int, list[int]] = {}
    for j in poor:
        groups.setdefault(root(j), []).append(j)
    members = sorted(groups.values())
    return DesignCheck(
        condition_number=condition,
        singular_values=tuple(float(v) for v in singular),
        confounded=tuple(tuple(names[j] for j in g) for g in members if len(g) > 1),
        invisible=tuple(names[g[0]] for g in members if len(g) == 1),
    )


# ---------------------------------------------------------------------------
# (c) Best-of-n
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedCandidate:
    """A candidate's position when a held-out prompt's candidates are sorted by reward."""

    index: int
    reward: float
    #: 1 = best.
    rank: int


def rank_candidates(model: RewardModel, candidates_traits: npt.ArrayLike) -> list[RankedCandidate]:
    """Sort candidates (rows of trait values) by reward, best first.

    Ties keep the original order (stable sort), so the result is deterministic
    and agrees with :func:`best_of_n`.
    """
    rewards = model.rewards(candidates_traits)
    if rewards.size == 0:
        raise ValueError("need at least one candidate")
    order = np.argsort(-rewards, kind="stable")
    return [
        RankedCandidate(index=int(i), reward=float(rewards[i]), rank=rank)
        for rank, i in enumerate(order, start=1)
    ]


def best_of_n(model: RewardModel, candidates_traits: npt.ArrayLike) -> int:
    """Index of the candidate best-of-n sampling would return (first one on ties)."""
    return rank_candidates(model, candidates_traits)[0].index


def reward_spread(model: RewardModel, candidates_traits: npt.ArrayLike) -> float:
    """How wide the learner's rewards are on one prompt: max - min over its candidates.

    Only reward differences matter downstream: the KL-regularised optimum is
    pi*(y) = pi_ref(y) exp(r(y) / beta) / Z (Rafailov et al., "Direct Preference
    Optimization", arXiv 2305.18290, eq. 4), so it can shift the odds between
    two candidates by at most a factor exp(spread / beta).  The page shows
    this figure for the learner's own model instead of a general claim.
    """
    rewards = model.rewards(candidates_traits)
    if rewards.size == 0:
        raise ValueError("need at least one candidate")
    return float(rewards.max() - rewards.min())


#: The sample sizes the pages show best-of-n's expected reward for.
BEST_OF_N_SIZES = (1, 2, 4, 8)


def best_of_n_expected_reward(
    rewards: npt.ArrayLike, probabilities: npt.ArrayLike, n: int
) -> float:
    """Exact expected reward of best-of-n when the n samples come from a finite list.

    Best-of-n draws n answers independently from the reference policy and keeps the
    one with the highest reward (Stiennon et al., "Learning to summarize from human
    feedback", arXiv 2009.01325).  Over a finite candidate list drawn with
    probabilities ``p`` (with replacement), the best reward ``M`` of n draws is an
    order statistic with ``P(M <= v) = F(v)^n``, ``F(v) = sum of p over rewards <= v``
    (David & Nagaraja, *Order Statistics*, 3rd ed. 2003, section 2.1).  So, over the
    distinct reward values ``v_1 < ... < v_m``::

        E[M] = sum_k v_k (F(v_k)^n - F(v_{k-1})^n),   F(v_0) = 0

    Candidates whose rewards are equal are one value (ties cost nothing: which of them
    is kept does not change the reward); candidates with probability 0 are never drawn.
    n = 1 gives the reference expectation ``sum p r``; as n grows it tends to the best
    reward among candidates with ``p > 0``.  The pages' "your model picks" is that
    limit: an argmax over the list, not a sample.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")
    p = _distribution(probabilities, "probabilities")
    r = _rewards_like(rewards, p)
    drawn = p > 0
    values, groups = np.unique(r[drawn], return_inverse=True)
    mass = np.bincount(groups, weights=p[drawn], minlength=values.size)
    cdf = np.minimum(np.cumsum(mass), 1.0)
    cdf[-1] = 1.0  # every draw is some candidate: rounding must not leave mass behind
    at_most = cdf ** int(n)
    below = np.concatenate([[0.0], at_most[:-1]])
    return float(np.sum(values * (at_most - below)))


# ---------------------------------------------------------------------------
# (d) KL-regularised optimum, DPO implicit reward, KL, expected reward
# ---------------------------------------------------------------------------


def _validate_beta(beta: float) -> float:
    """beta is a temperature: it must be a positive finite number."""
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError("beta must be a finite number > 0")
    return float(beta)


def _distribution(
    values: npt.ArrayLike, name: str, *, strictly_positive: bool = False
) -> FloatArray:
    """A 1-D probability vector summing to 1 (within 1e-6), renormalised exactly."""
    p = _vector(values, name)
    if p.size == 0:
        raise ValueError(f"{name} must not be empty")
    if strictly_positive and np.any(p <= 0):
        raise ValueError(f"{name} must be strictly positive")
    if np.any(p < 0):
        raise ValueError(f"{name} must be non-negative")
    total = p.sum()
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(f"{name} must sum to 1, got {total}")
    return p / total


def _rewards_like(rewards: npt.ArrayLike, pi: FloatArray) -> FloatArray:
    r = _vector(rewards, "rewards")
    if r.shape != pi.shape:
        raise ValueError("rewards and policy must have the same length")
    return r


def optimal_policy(pi_ref: npt.ArrayLike, rewards: npt.ArrayLike, beta: float) -> FloatArray:
    """Exact maximiser of E_pi[r] - beta * KL(pi || pi_ref) over a prompt's candidates.

    pi*(y) = pi_ref(y) exp(r(y)/beta) / Z.  Computed in log space with the
    largest on-support reward subtracted *before* dividing by beta, so every
    exponent is <= 0: tiny beta (1e-4) cannot overflow and simply concentrates
    the mass on the best candidate(s), huge beta returns pi_ref.  Candidates
    with pi_ref = 0 stay at 0 (the policy cannot leave the reference support).
    """
    beta = _validate_beta(beta)
    ref = _distribution(pi_ref, "pi_ref")
    r = _rewards_like(rewards, ref)
    support = ref > 0
    shifted = r - r[support].max()
    with np.errstate(divide="ignore", over="ignore"):
        logits = np.log(ref) + shifted / beta
    logits -= logits.max()
    weights = np.exp(logits)
    return weights / weights.sum()


def log_partition(pi_ref: npt.ArrayLike, rewards: npt.ArrayLike, beta: float) -> float:
    """log Z = log sum_y pi_ref(y) exp(r(y)/beta), computed without overflow.

    beta * log(pi*/pi_ref) = r - beta * log Z, so this is the constant the DPO
    implicit reward is shifted by.
    """
    beta = _validate_beta(beta)
    ref = _distribution(pi_ref, "pi_ref")
    r = _rewards_like(rewards, ref)
    support = ref > 0
    top = r[support].max()
    with np.errstate(over="ignore"):
        scaled = (r[support] - top) / beta
    return float(top / beta + np.logaddexp.reduce(np.log(ref[support]) + scaled))


def dpo_implicit_reward(pi: npt.ArrayLike, pi_ref: npt.ArrayLike, beta: float) -> FloatArray:
    """DPO's implicit reward beta * log(pi(y) / pi_ref(y)).

    For pi = pi* this equals r(y) - beta * log Z: the reward up to a constant
    per prompt, which is why DPO can skip the explicit reward model.  pi_ref
    must be strictly positive (the ratio is undefined otherwise); a candidate
    with pi(y) = 0 gets -inf.
    """
    beta = _validate_beta(beta)
    ref = _distribution(pi_ref, "pi_ref", strictly_positive=True)
    policy = _distribution(pi, "pi")
    if policy.shape != ref.shape:
        raise ValueError("pi and pi_ref must have the same length")
    with np.errstate(divide="ignore"):
        return beta * (np.log(policy) - np.log(ref))


def kl_divergence(pi: npt.ArrayLike, pi_ref: npt.ArrayLike) -> float:
    """KL(pi || pi_ref) in nats; 0 log 0 = 0, and inf if pi leaves pi_ref's support."""
    policy = _distribution(pi, "pi")
    ref = _distribution(pi_ref, "pi_ref")
    if policy.shape != ref.shape:
        raise ValueError("pi and pi_ref must have the same length")
    used = policy > 0
    if np.any(ref[used] == 0):
        return math.inf
    kl = float(np.sum(policy[used] * (np.log(policy[used]) - np.log(ref[used]))))
    return max(kl, 0.0)  # clamp tiny negative rounding error


def expected_reward(pi: npt.ArrayLike, rewards: npt.ArrayLike) -> float:
    """E_{y ~ pi}[r(y)]."""
    policy = _distribution(pi, "pi")
    return float(policy @ _rewards_like(rewards, policy))


@dataclass(frozen=True, eq=False)
class BetaPoint:
    """One row of the "how do reward and KL move with beta" table."""

    beta: float
    policy: FloatArray
    expected_reward: float
    kl: float


def beta_sweep(
    pi_ref: npt.ArrayLike, rewards: npt.ArrayLike, betas: Iterable[float]
) -> list[BetaPoint]:
    """pi*, its expected reward and its KL from pi_ref for each beta, in the order given."""
    points = []
    for beta in betas:
        policy = optimal_policy(pi_ref, rewards, beta)
        points.append(
            BetaPoint(
                beta=float(beta),
                policy=_frozen(policy),
                expected_reward=expected_reward(policy, rewards),
                kl=kl_divergence(policy, pi_ref),
            )
        )
    return points


# ---------------------------------------------------------------------------
# (e) Constitution labeler
# ---------------------------------------------------------------------------


class Side(StrEnum):
    """Which displayed response of a pair was picked (string values store cleanly)."""

    FIRST = "first"
    SECOND = "second"


@dataclass(frozen=True, eq=False)
class ResponsePair:
    """An unlabelled pair as displayed: trait vectors of the first and second response."""

    first: FloatArray
    second: FloatArray

    def __post_init__(self) -> None:
        first = _vector(self.first, "first")
        second = _vector(self.second, "second")
        if first.shape != second.shape:
            raise ValueError("first and second must have the same number of traits")
        object.__setattr__(self, "first", _frozen(first))
        object.__setattr__(self, "second", _frozen(second))


@dataclass(frozen=True)
class AILabel:
    """The constitution labeler's verdict on one pair, with the scores behind it."""

    side: Side
    first_score: float
    second_score: float
    #: True when the scores were equal (within tolerance) and the tie rule chose FIRST.
    tie: bool


def constitution_weights(
    principles: Iterable[Mapping[str, float]], trait_names: Sequence[str]
) -> FloatArray:
    """Sum the chosen principles (each a ``{trait: weight}`` mapping) into one weight vector.

    Principles add up because a constitution is a list of things to prefer; a
    trait not mentioned by a principle gets 0 from it.  Unknown trait names
    raise, so a typo in a principle cannot silently do nothing.
    """
    index = {name: j for j, name in enumerate(trait_names)}
    total = np.zeros(len(index))
    for principle in principles:
        unknown = sorted(set(principle) - set(index))
        if unknown:
            raise ValueError(f"principle mentions unknown traits: {', '.join(unknown)}")
        for name, weight in principle.items():
            if not math.isfinite(weight):
                raise ValueError(f"weight for {name!r} must be finite")
            total[index[name]] += weight
    return total


def constitution_label(
    pairs: Sequence[ResponsePair],
    weights: npt.ArrayLike,
    *,
    tie_tolerance: float = DEFAULT_TIE_TOLERANCE,
) -> list[AILabel]:
    """Label each pair with the side whose weighted trait score is higher.

    Tie rule (deterministic): if the scores differ by at most
    ``tie_tolerance`` the labeler picks ``Side.FIRST`` and sets ``tie=True``,
    so the page can say "the constitution had no opinion here" instead of
    pretending the first response won on merit.
    """
    w = _vector(weights, "weights")
    labels = []
    for pair in pairs:
        if pair.first.shape != w.shape:
            raise ValueError(f"expected {w.size} trait values per response, got {pair.first.size}")
        first_score = float(pair.first @ w)
        second_score = float(pair.second @ w)
        tie = abs(first_score - second_score) <= tie_tolerance
        side = Side.SECOND if not tie and second_score > first_score else Side.FIRST
        labels.append(
            AILabel(side=side, first_score=first_score, second_score=second_score, tie=tie)
        )
    return labels


@dataclass(frozen=True)
class AgreementCount:
    """How often the learner and the AI labeler picked the same response.

    A tie is a pair on which the constitution has no preference; the labeler's
    ``Side.FIRST`` there is a tie-break, not an opinion, so it can neither agree
    nor disagree with the learner.  Ties are therefore left out of numerator and
    denominator alike and reported on their own, as Zheng et al. report judge
    agreement "without tie" beside the count of ties ("Judging LLM-as-a-Judge
    with MT-Bench and Chatbot Arena", arXiv 2306.05685, section 4.2).
    """

    #: Decided pairs on which the learner picked the labeler's side.
    agreed: int
    #: Pairs on which the labeler had a preference (not tied).
    decided: int
    #: Pairs on which the labeler's scores tied; in neither count above.
    ties: int

    @property
    def disagreed(self) -> int:
        return self.decided - self.agreed

    @property
    def share(self) -> float | None:
        """``agreed / decided``; None when the labeler tied on every pair."""
        return self.agreed / self.decided if self.decided else None


def ai_agreement(learner_sides: Sequence[Side | str], labels: Sequence[AILabel]) -> AgreementCount:
    """Compare the learner's sides with the AI labeler's, leaving tied pairs out.

    A learner who always picked the first response, under a principle that
    ties on five of six pairs, agrees "on k of 1, 5 tied", never "6 of 6".
    """
    if len(learner_sides) != len(labels):
        raise ValueError("learner_sides and labels must have the same length")
    agreed = decided = ties = 0
    for side, label in zip(learner_sides, labels, strict=True):
        picked = Side(side)
        if label.tie:
            ties += 1
            continue
        decided += 1
        agreed += picked == Side(label.side)
    return AgreementCount(agreed=agreed, decided=decided, ties=ties)


def picks_from_sides(
    pairs: Sequence[ResponsePair], sides: Sequence[Side | str]
) -> list[Comparison]:
    """Turn displayed pairs plus the side picked on each into chosen/rejected comparisons.

    Works for the learner's sides and for the AI labeler's sides alike, so a
    reward model can be fitted to either labeler's preferences.
    """
    if len(pairs) != len(sides):
        raise ValueError("pairs and sides must have the same length")
    comparisons = []
    for pair, side in zip(pairs, sides, strict=True):
        if Side(side) is Side.FIRST:
            comparisons.append(Comparison(chosen=pair.first, rejected=pair.second))
        else:
            comparisons.append(Comparison(chosen=pair.second, rejected=pair.first))
    return comparisons
