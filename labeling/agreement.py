"""Class-level statistics for the pairwise labeling exercise.

Pure module: no Django imports. Inputs are *counts* — what a database GROUP BY
returns — not rows of individual picks:

* ``pair_split`` / ``position_bias`` take how often each side was chosen;
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
    p = count / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    # At p = 0 (p = 1) the lower (upper) bound is exactly 0 (1); avoid round-off there.
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == total else min(1.0, centre + half)
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
