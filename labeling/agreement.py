"""Class-level statistics for the pairwise labeling exercise.

Pure module: no Django imports. Inputs are *counts* — what a database GROUP BY
returns — not rows of individual picks:

* ``pair_split`` / ``position_bias`` take how often each side was chosen;
* ``position_bias_clustered`` takes the same per learner (arrays of left picks and picks);
* ``pairwise_agreement`` / ``bennett_s`` / ``fleiss_kappa`` take an items x categories
  count table: ``table[i][j]`` = number of raters who put item ``i`` (a pair) in
  category ``j`` (e.g. column 0 = "response A preferred", column 1 = "response B
  preferred"). For pairs, which response is called "A" is arbitrary, so the class
  page's chance-corrected agreement is ``bennett_s``, which does not depend on it;
  ``fleiss_kappa`` does (see its docstring).

Undefined statistics are returned as ``None`` (never NaN, never a division by zero).
"""

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import ArrayLike

# Two-sided 95 % standard normal quantile, Phi^-1(0.975).
Z_95 = 1.959963984540054


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


# ----------------------------------------------------------------------------- splits


@overload
def pair_split[K: Hashable](chosen_counts: Mapping[K, int]) -> dict[K, float] | None: ...
@overload
def pair_split(chosen_counts: Sequence[int]) -> list[float] | None: ...


def pair_split(chosen_counts):
    """Share of picks per side.

    ``{"A": 7, "B": 3}`` -> ``{"A": 0.7, "B": 0.3}``; ``[7, 3]`` -> ``[0.7, 0.3]``.
    Returns ``None`` when there are no picks at all.
    """
    if isinstance(chosen_counts, Mapping):
        counts = {key: _check_count(n, f"count for {key!r}") for key, n in chosen_counts.items()}
        total = sum(counts.values())
        if total == 0:
            return None
        return {key: n / total for key, n in counts.items()}
    counts = [_check_count(n, f"count {index}") for index, n in enumerate(chosen_counts)]
    total = sum(counts)
    if total == 0:
        return None
    return [n / total for n in counts]


@dataclass(frozen=True)
class Estimate:
    """A proportion ``count / total`` with its uncertainty.

    ``low``/``high`` are the Wilson score interval (95 % by default);
    ``standard_error`` is the normal-approximation ``sqrt(p (1 - p) / n)``. All four
    float fields are ``None`` when ``total == 0``.
    """

    count: int
    total: int
    share: float | None
    standard_error: float | None
    low: float | None
    high: float | None


def wilson_interval(count: int, total: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval for ``count`` successes out of ``total`` (``None`` if 0).

    With ``p = count / n``::

        centre = (p + z^2 / 2n) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at
    p = 0 or p = 1.
    """
    count = _check_count(count, "count")
    total = _check_count(total, "total")
    if count > total:
        raise ValueError(f"count {count} exceeds total {total}")
    if total == 0:
        return None
    return _wilson(count / total, total, z)


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson bounds for share ``p`` of ``n`` (> 0) observations, ``n`` not necessarily whole."""
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At p = 0 (p = 1) the lower (upper) bound is exactly 0 (1); avoid round-off there.
    low = 0.0 if p == 0 else max(0.0, centre - half)
    high = 1.0 if p == 1 else min(1.0, centre + half)
    return low, high


def position_bias(left_chosen: int, total: int, z: float = Z_95) -> Estimate:
    """Share of picks that went to the response shown on the left.

    Without position bias this is about 0.5; an interval excluding 0.5 suggests the
    class favours one screen position. ``total == 0`` gives an ``Estimate`` whose
    share, standard error and interval are ``None``.
    """
    left_chosen = _check_count(left_chosen, "left_chosen")
    total = _check_count(total, "total")
    if left_chosen > total:
        raise ValueError(f"left_chosen {left_chosen} exceeds total {total}")
    if total == 0:
        return Estimate(left_chosen, total, None, None, None, None)
    share = left_chosen / total
    low, high = wilson_interval(left_chosen, total, z)
    return Estimate(
        count=left_chosen,
        total=total,
        share=share,
        standard_error=math.sqrt(share * (1 - share) / total),
        low=low,
        high=high,
    )


def t_critical(df: int, coverage: float = 0.95) -> float:
    """Two-sided Student t critical value: ``P(|T| <= t) = coverage`` for ``df`` degrees.

    ``P(|T| <= t)`` has a closed form for whole ``df`` (Abramowitz & Stegun,
    *Handbook of Mathematical Functions*, 26.7.3 and 26.7.4): with
    ``theta = atan(t / sqrt(df))`` and ``c = cos(theta)``, for odd ``df``
    ``(2/pi) [theta + sin(theta) c (1 + 2/3 c^2 + (2*4)/(3*5) c^4 + ...)]`` (to the
    ``c^(df-3)`` term) and for even ``df`` ``sin(theta) (1 + 1/2 c^2 + (1*3)/(2*4) c^4
    + ...)`` (to ``c^(df-2)``). It rises with ``t``, so bisection finds the quantile to
    machine precision; e.g. 12.706 for 1 degree, 4.303 for 2, 1.962 for 1000.
    """
    if isinstance(df, bool) or not isinstance(df, int | np.integer) or df < 1:
        raise ValueError(f"df must be a whole number >= 1, got {df!r}")
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be between 0 and 1, got {coverage!r}")
    df = int(df)
    if df % 2:
        ratios = np.arange(2, df - 2, 2) / np.arange(3, df - 1, 2)  # 2/3, 4/5, ...
    else:
        ratios = np.arange(1, df - 2, 2) / np.arange(2, df - 1, 2)  # 1/2, 3/4, ...
    steps = np.arange(1, ratios.size + 1)

    def mass(t: float) -> float:
        theta = math.atan(t / math.sqrt(df))
        c2 = math.cos(theta) ** 2
        with np.errstate(under="ignore"):
            series = 1.0 + float(np.sum(np.cumprod(ratios) * c2**steps))
        if df == 1:
            return 2 * theta / math.pi
        if df % 2:
            return 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
        return math.sin(theta) * series

    low, high = 0.0, 2.0
    while mass(high) < coverage:
        low, high = high, 2 * high
    for _ in range(200):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        low, high = (middle, high) if mass(middle) < coverage else (low, middle)
    return high


@dataclass(frozen=True)
class ClusteredEstimate:
    """Share of picks that went left, with an interval that treats learners as clusters.

    ``standard_error`` is the cluster-robust standard error of the share and
    ``design_effect`` its variance over the variance if all picks were independent
    (Kish 1965); ``low``/``high`` the 95 % interval. Fields are ``None`` when
    undefined (see :func:`position_bias_clustered`).
    """

    left: int
    picks: int
    learners: int
    share: float | None
    standard_error: float | None
    design_effect: float | None
    low: float | None
    high: float | None


def position_bias_clustered(
    left_picks: ArrayLike, picks: ArrayLike, coverage: float = 0.95
) -> ClusteredEstimate:
    """Share of picks that went to the left response, with a learner-clustered interval.

    ``left_picks[g]`` of learner ``g``'s ``picks[g]`` picks went left. One learner's
    six picks are not six independent draws (someone who likes the left slot picks it
    every time), so the pooled Wilson interval of :func:`position_bias` is too narrow
    when learners differ. Here, with ``G`` learners who picked at all, ``N`` picks and
    share ``p = sum y_g / N`` (a ratio estimator):

    * variance: the cluster-robust (linearisation) variance of a ratio estimator with
      the small-sample factor ``G / (G - 1)`` (Cochran, *Sampling Techniques*, 3rd ed.
      1977, section 6.3 and 11.7; Cameron & Miller, "A Practitioner's Guide to
      Cluster-Robust Inference", Journal of Human Resources 50(2), 2015)::

          v = G / (G - 1) * sum_g (y_g - p n_g)^2 / N^2

    * design effect ``deff = v / (p (1 - p) / N)`` (Kish, *Survey Sampling*, 1965) and
      effective sample size ``N / deff`` (Korn & Graubard, "Confidence intervals for
      proportions with small expected number of positive counts estimated from survey
      data", Survey Methodology 24(2), 1998). ``deff`` is floored at 1 (the interval is
      never narrower than for independent picks: a learner's picks are not
      negatively correlated by design); when ``p`` is 0 or 1 it is 0/0, reported as
      ``None``, and the interval uses ``N`` itself;
    * interval: Wilson's, as in :func:`position_bias`, on the effective sample size,
      with the normal quantile replaced by Student's t with ``G - 1`` degrees of
      freedom, since ``v`` is estimated from only ``G`` clusters (Cameron & Miller,
      section VI).

    With every learner always left or always right ``deff`` is about the picks per
    learner; with independent picks it is about 1 and the interval is close to
    Wilson on the pooled counts. ``share`` is ``None`` with no picks; the other
    float fields are ``None`` with fewer than two learners who picked (a variance
    between learners needs two of them).
    """
    y = np.asarray(left_picks)
    n = np.asarray(picks)
    if y.ndim != 1 or n.shape != y.shape:
        raise ValueError("left_picks and picks must be 1-D arrays of the same length")
    for name, values in (("left_picks", y), ("picks", n)):
        if values.size and (
            not np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.bool_)
        ):
            raise ValueError(f"{name} must be whole-number counts")
    y, n = y.astype(np.int64), n.astype(np.int64)
    if np.any(y < 0) or np.any(y > n):
        raise ValueError("need 0 <= left_picks <= picks for every learner")
    picked = n > 0
    y, n = y[picked], n[picked]
    learners, left, total = int(y.size), int(y.sum()), int(n.sum())
    if total == 0:
        return ClusteredEstimate(left, total, learners, None, None, None, None, None)
    share = left / total
    if learners < 2:
        return ClusteredEstimate(left, total, learners, share, None, None, None, None)
    residuals = y - share * n
    variance = learners / (learners - 1) * float(np.sum(residuals * residuals)) / total**2
    # At p = 0 or 1 every learner's residual is 0 and so is the binomial variance.
    design_effect = variance / (share * (1 - share) / total) if 0 < share < 1 else None
    effective = total / max(design_effect or 1.0, 1.0)
    low, high = _wilson(share, effective, t_critical(learners - 1, coverage))
    return ClusteredEstimate(
        left=left,
        picks=total,
        learners=learners,
        share=share,
        standard_error=math.sqrt(variance),
        design_effect=design_effect,
        low=low,
        high=high,
    )


# -------------------------------------------------------------------------- agreement


def _count_table(table: ArrayLike) -> np.ndarray:
    array = np.asarray(table)
    if array.ndim != 2:
        raise ValueError(f"table must be items x categories (2-D), got shape {array.shape}")
    if array.size and (
        not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise ValueError("table must contain counts")
    if array.size and not (np.isfinite(array).all() and (array == np.round(array)).all()):
        raise ValueError("table must contain whole-number counts")
    if array.size and array.min() < 0:
        raise ValueError("table counts must be >= 0")
    return array.astype(np.int64)


def pairwise_agreement(table: ArrayLike) -> float | None:
    """Mean share of agreeing rater pairs per item (Fleiss' P-bar, unweighted).

    Fleiss 1971, "Measuring nominal scale agreement among many raters", Psychological
    Bulletin 76(5).

    For item ``i`` with ``n_i`` raters::

        P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1))

    i.e. of the ``n_i (n_i - 1) / 2`` pairs of raters, the share that chose the same
    category. The result is the plain mean of ``P_i`` over items with at least two
    raters (items with 0 or 1 rater have no pairs and are skipped); ``None`` if no
    item has two raters. With varying ``n_i`` this is the unweighted mean — it can
    differ from the ``(n_i - 1)``-weighted observed agreement inside
    :func:`fleiss_kappa`; with constant ``n`` the two coincide.
    """
    counts = _count_table(table)
    raters = counts.sum(axis=1)
    rated = raters >= 2
    if not rated.any():
        return None
    counts, raters = counts[rated], raters[rated]
    agreeing_pairs = (counts * (counts - 1)).sum(axis=1)
    all_pairs = raters * (raters - 1)
    return float(np.mean(agreeing_pairs / all_pairs))


def bennett_s(table: ArrayLike) -> float | None:
    """Chance-corrected agreement that does not depend on how the options are named.

    Bennett, Alpert & Goldstein's S (1954, "Communications through limited response
    questioning", Public Opinion Quarterly 18(3), 303-308) takes the chance that two
    raters agree as ``1/q`` for ``q`` options, so for a pair of responses::

        S = (P_bar - 1/q) / (1 - 1/q)        = 2 * P_bar - 1   when q = 2

    with ``P_bar`` the :func:`pairwise_agreement` of the table (mean over items with
    at least two raters of the share of rater pairs that agree). It is the same
    coefficient as Brennan & Prediger's kappa_n (1981, Educational and Psychological
    Measurement 41(3)) and Randolph's free-marginal multirater kappa (2005). Why this
    and not Fleiss' kappa: ``P_bar`` depends on each item's counts only as a set, so
    swapping which response of a pair is called "A" changes nothing, while Fleiss'
    ``P_e`` pools the "A" column across pairs and changes with the naming (see
    :func:`fleiss_kappa`). Chance = 1/2 is also what "picking at random" means for two
    responses. S = 0 is coin-flip agreement, 1 unanimity on every item, -1 every item
    split evenly between two raters.

    Returns ``None`` when ``P_bar`` is undefined (no item with two raters). The table
    needs at least two columns (options).
    """
    counts = _count_table(table)
    options = counts.shape[1]
    if options < 2:
        raise ValueError(f"need at least two options (columns), got {options}")
    observed = pairwise_agreement(counts)
    if observed is None:
        return None
    chance = 1.0 / options
    return (observed - chance) / (1.0 - chance)


def fleiss_kappa(table: ArrayLike) -> float | None:
    """Fleiss' kappa for an items x categories count table.

    Constant number of raters ``n`` per item (Fleiss 1971)::

        P_i   = (sum_j n_ij^2 - n) / (n (n - 1))     observed agreement on item i
        P_bar = mean_i P_i
        p_j   = sum_i n_ij / (N n)                   share of all ratings in category j
        P_e   = sum_j p_j^2                          agreement expected by chance
        kappa = (P_bar - P_e) / (1 - P_e)

    Varying number of raters ``n_i`` (Fleiss, Levin & Paik, *Statistical Methods for
    Rates and Proportions*, multiple ratings per subject with different numbers of
    raters)::

        kappa = 1 - [sum_i sum_j n_ij (n_i - n_ij) / n_i] / [sum_i (n_i - 1) * sum_j p_j (1 - p_j)]

    with ``p_j`` pooled over all ratings. Since
    ``sum_j n_ij (n_i - n_ij) / n_i = (n_i - 1)(1 - P_i)``, this is the formula above
    with ``P_i`` computed from each item's own ``n_i`` and ``P_bar`` the mean of the
    ``P_i`` weighted by ``n_i - 1``; for constant ``n`` it is exactly Fleiss 1971.
    Items with a single rater carry zero weight in ``P_bar`` but their rating still
    counts in ``p_j``; items with no raters are ignored.

    Returns ``None`` when kappa is undefined: no item has two raters, or all ratings
    fall in a single category (``P_e = 1``, so 0/0 — even though raters agree).
    Perfect agreement with at least two categories in use gives exactly 1.0.

    Right for categories that mean the same thing on every item (the textbook case),
    but the class page must not use it for preference pairs: ``p_j`` pools category
    ``j`` over items, and "A" is only the name the content gives one response of
    each pair. Six pairs split 27/3 with the favourite always named A give pairwise
    agreement 81.4 % and kappa = -0.03 (``p_A = 0.9``, so ``P_e = 0.82``); name the
    favourite B on three of them and, with the same picks, ``P_e = 0.5`` and
    kappa = 0.63. Use :func:`bennett_s` for pairs.
    """
    counts = _count_table(table)
    raters = counts.sum(axis=1)
    counts, raters = counts[raters > 0], raters[raters > 0]
    weight = int((raters - 1).sum())
    if weight == 0:
        return None
    category_totals = counts.sum(axis=0)
    if np.count_nonzero(category_totals) < 2:
        return None
    # Observed disagreement: sum_i (n_i^2 - sum_j n_ij^2) / n_i, over sum_i (n_i - 1).
    disagreeing = (raters * raters - (counts * counts).sum(axis=1)) / raters
    observed_disagreement = float(disagreeing.sum()) / weight
    shares = category_totals / category_totals.sum()
    expected_disagreement = float(1.0 - (shares * shares).sum())
    return 1.0 - observed_disagreement / expected_disagreement
