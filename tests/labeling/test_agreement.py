"""Tests for labeling.agreement: pure functions on count tables, no database.

Expected values are computed by hand in the comments next to each assertion.
"""

import math

import numpy as np
import pytest

from labeling.agreement import (
    Z_95,
    bennett_s,
    fleiss_kappa,
    pair_split,
    pairwise_agreement,
    position_bias,
    position_bias_clustered,
    t_critical,
    wilson_interval,
)

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
WIKIPEDIA_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]

# Four pairs, three raters each, two sides (A, B).
TWO_SIDE_TABLE = [[3, 0], [2, 1], [0, 3], [1, 2]]


# ---------------------------------------------------------------------------- pair_split


def test_pair_split_gives_the_share_per_side():
    assert pair_split([7, 3]) == pytest.approx([0.7, 0.3])


def test_pair_split_keeps_the_keys_of_a_mapping():
    assert pair_split({"A": 7, "B": 3}) == pytest.approx({"A": 0.7, "B": 0.3})


def test_pair_split_with_no_picks_is_none():
    assert pair_split([0, 0]) is None
    assert pair_split({"A": 0, "B": 0}) is None


def test_pair_split_rejects_negative_counts():
    with pytest.raises(ValueError):
        pair_split([3, -1])


# ------------------------------------------------------------------------- position_bias


def test_position_bias_seven_of_ten_matches_the_hand_wilson_interval():
    # p = 0.7, n = 10, z = 1.959964, z^2 = 3.841459
    # denominator = 1 + z^2/n = 1.3841459
    # centre = (0.7 + z^2/(2n)) / 1.3841459 = (0.7 + 0.1920729) / 1.3841459 = 0.644496
    # half = z / 1.3841459 * sqrt(0.7*0.3/10 + z^2/(4*100))
    #      = 1.959964 / 1.3841459 * sqrt(0.021 + 0.0096036)
    #      = 1.415999 * 0.174939 = 0.247716
    # interval = (0.644496 - 0.247716, 0.644496 + 0.247716) = (0.396780, 0.892212)
    # normal-approximation SE = sqrt(0.7 * 0.3 / 10) = sqrt(0.021) = 0.144914
    estimate = position_bias(7, 10)
    assert estimate.count == 7
    assert estimate.total == 10
    assert estimate.share == pytest.approx(0.7)
    assert estimate.low == pytest.approx(0.396780, abs=1e-5)
    assert estimate.high == pytest.approx(0.892212, abs=1e-5)
    assert estimate.standard_error == pytest.approx(0.144914, abs=1e-6)


def test_wilson_interval_is_not_degenerate_at_zero_and_all():
    # 0 of 10: low = 0, high = z^2 / (n + z^2) = 3.841459 / 13.841459 = 0.277533
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-6)
    # 10 of 10: low = n / (n + z^2) = 10 / 13.841459 = 0.722467, high = 1
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.722467, abs=1e-6)
    assert high == 1.0
    assert abs(Z_95 - 1.959964) < 1e-6


def test_position_bias_with_no_picks_does_not_divide_by_zero():
    estimate = position_bias(0, 0)
    assert estimate.total == 0
    assert estimate.share is None
    assert estimate.standard_error is None
    assert estimate.low is None
    assert estimate.high is None
    assert wilson_interval(0, 0) is None


def test_position_bias_rejects_more_left_picks_than_picks():
    with pytest.raises(ValueError):
        position_bias(11, 10)


# --------------------------------------------------------------- clustered position bias


@pytest.mark.parametrize(
    ("df", "coverage", "table_value"),
    [
        # Student t table, two-sided (e.g. Abramowitz & Stegun, table 26.10)
        (1, 0.95, 12.706205),
        (2, 0.95, 4.302653),
        (3, 0.95, 3.182446),
        (4, 0.95, 2.776445),
        (10, 0.95, 2.228139),
        (30, 0.95, 2.042272),
        (5, 0.99, 4.032143),
        (1, 0.99, 63.656741),
    ],
)
def test_t_critical_matches_the_table(df, coverage, table_value):
    assert t_critical(df, coverage) == pytest.approx(table_value, abs=1e-6)


def test_t_critical_tends_to_the_normal_quantile():
    assert t_critical(100_000) == pytest.approx(Z_95, abs=1e-4)
    with pytest.raises(ValueError):
        t_critical(0)


def test_clustered_position_bias_by_hand():
    # Three learners, six picks each: 6, 3 and 0 to the left.
    # p = 9/18 = 0.5; residuals y - p n = 3, 0, -3; sum of squares 18
    # v = G/(G-1) * 18 / N^2 = 1.5 * 18 / 324 = 1/12;  SE = sqrt(1/12) = 0.288675
    # binomial variance 0.25 / 18 = 1/72 -> deff = (1/12) / (1/72) = 6 -> n_eff = 18/6 = 3
    # t(2 df) = 4.302653, t^2 = 18.512821
    # denominator = 1 + 18.512821/3 = 7.170940
    # centre = (0.5 + 18.512821/6) / 7.170940 = 3.585470 / 7.170940 = 0.5
    # half = 4.302653 / 7.170940 * sqrt(0.25/3 + 18.512821/36)
    #      = 0.600012 * sqrt(0.083333 + 0.514245) = 0.600012 * 0.773031 = 0.463829
    estimate = position_bias_clustered(np.array([6, 3, 0]), np.array([6, 6, 6]))
    assert (estimate.left, estimate.picks, estimate.learners) == (9, 18, 3)
    assert estimate.share == 0.5
    assert estimate.standard_error == pytest.approx(math.sqrt(1 / 12))
    assert estimate.design_effect == pytest.approx(6.0)
    assert estimate.low == pytest.approx(0.5 - 0.463829, abs=1e-5)
    assert estimate.high == pytest.approx(0.5 + 0.463829, abs=1e-5)


def width(low: float, high: float) -> float:
    return high - low


def test_clustered_interval_is_much_wider_than_wilson_when_learners_always_pick_one_side():
    # 50 learners always left, 50 always right: 300 of 600 picks left.
    # deff = (100/99 * 100 * 9 / 600^2) / (0.25 / 600) = 6.06: about the picks per learner.
    left = np.array([6] * 50 + [0] * 50)
    estimate = position_bias_clustered(left, np.full(100, 6))
    pooled = wilson_interval(300, 600)

    assert estimate.share == 0.5
    assert estimate.design_effect == pytest.approx(600 / 99)
    assert width(estimate.low, estimate.high) > 2 * width(*pooled)


def test_clustered_interval_is_close_to_wilson_when_picks_are_independent():
    rng = np.random.default_rng(20240611)
    picks = np.full(400, 6)
    left = rng.binomial(picks, 0.5)
    estimate = position_bias_clustered(left, picks)
    pooled = wilson_interval(int(left.sum()), int(picks.sum()))

    assert estimate.design_effect == pytest.approx(1.0, abs=0.15)
    assert width(estimate.low, estimate.high) == pytest.approx(width(*pooled), rel=0.1)
    assert estimate.low == pytest.approx(pooled[0], abs=0.01)
    assert estimate.high == pytest.approx(pooled[1], abs=0.01)


def test_clustered_interval_fields_are_none_when_undefined():
    nobody = position_bias_clustered(np.array([], dtype=int), np.array([], dtype=int))
    assert (nobody.picks, nobody.share, nobody.low, nobody.high) == (0, None, None, None)

    one = position_bias_clustered(np.array([4, 0]), np.array([6, 0]))  # one learner picked
    assert (one.learners, one.share) == (1, pytest.approx(4 / 6))
    assert (one.standard_error, one.design_effect, one.low, one.high) == (None,) * 4


def test_clustered_interval_when_every_pick_went_left_uses_all_picks():
    # deff is 0/0 at p = 1; the interval is Wilson on 12 picks with t(1 df) = 12.706205:
    # low = n / (n + t^2) = 12 / (12 + 161.447638) = 0.069185
    estimate = position_bias_clustered(np.array([6, 6]), np.array([6, 6]))
    assert estimate.share == 1.0
    assert estimate.design_effect is None
    assert estimate.low == pytest.approx(0.069185, abs=1e-6)
    assert estimate.high == 1.0


@pytest.mark.parametrize(
    ("left", "picks"),
    [
        ([7, 0], [6, 6]),  # more left picks than picks
        ([-1, 0], [6, 6]),
        ([1.5, 0], [6, 6]),  # not counts
        ([1, 2], [6]),  # lengths differ
    ],
)
def test_clustered_position_bias_refuses_bad_counts(left, picks):
    with pytest.raises(ValueError):
        position_bias_clustered(np.array(left), np.array(picks))


# -------------------------------------------------------------------- pairwise agreement


def test_pairwise_agreement_by_hand():
    # n = 3 raters -> 3 pairs per item.
    # [3,0]: 3*2 / (3*2) = 1;  [2,1]: (2*1 + 0) / 6 = 1/3;
    # [0,3]: 1;               [1,2]: (0 + 2*1) / 6 = 1/3.
    # mean = (1 + 1/3 + 1 + 1/3) / 4 = 2/3
    assert pairwise_agreement(TWO_SIDE_TABLE) == pytest.approx(2 / 3)


def test_pairwise_agreement_on_the_wikipedia_example_is_p_bar():
    # Wikipedia: P_bar = 0.378
    assert pairwise_agreement(WIKIPEDIA_TABLE) == pytest.approx(0.378, abs=5e-4)


def test_pairwise_agreement_skips_items_without_a_pair_of_raters():
    # [0,0] and [1,0] have no rater pairs; [2,0] -> 1, [1,1] -> 0 -> mean 1/2
    assert pairwise_agreement([[0, 0], [1, 0], [2, 0], [1, 1]]) == pytest.approx(0.5)
    assert pairwise_agreement([[1, 0], [0, 1]]) is None
    assert pairwise_agreement(np.zeros((0, 2), dtype=int)) is None


# ------------------------------------------------------------------------- fleiss kappa


def test_fleiss_kappa_on_the_wikipedia_worked_example():
    # Column totals 20, 28, 39, 21, 32 of 140 ratings:
    # p_j = 0.143, 0.200, 0.279, 0.150, 0.229
    # P_e = (20^2 + 28^2 + 39^2 + 21^2 + 32^2) / 140^2 = 4170 / 19600 = 0.212755
    # P_i = 1.000, 0.253, 0.308, 0.440, 0.330, 0.462, 0.242, 0.176, 0.286, 0.286
    # P_bar = 0.378022
    # kappa = (0.378022 - 0.212755) / (1 - 0.212755) = 0.165267 / 0.787245 = 0.20993
    assert fleiss_kappa(WIKIPEDIA_TABLE) == pytest.approx(0.210, abs=5e-4)
    assert fleiss_kappa(WIKIPEDIA_TABLE) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_kappa_on_a_two_side_hand_example():
    # P_bar = 2/3 (see pairwise agreement); sides: A = 3+2+0+1 = 6, B = 6 of 12
    # P_e = 0.5^2 + 0.5^2 = 0.5;  kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3
    assert fleiss_kappa(TWO_SIDE_TABLE) == pytest.approx(1 / 3)


def test_fleiss_kappa_is_one_for_perfect_agreement():
    # Every item unanimous, both sides used: P_bar = 1, P_e = 5/9 -> kappa = 1
    assert fleiss_kappa([[3, 0], [0, 3], [3, 0]]) == 1.0


def test_fleiss_kappa_is_undefined_when_every_rating_is_the_same_category():
    # P_bar = 1 and P_e = 1 -> 0/0
    assert fleiss_kappa([[3, 0], [3, 0]]) is None


def test_fleiss_kappa_is_minus_one_for_systematic_disagreement():
    # [1,1] twice: P_i = 0, P_bar = 0; P_e = 0.5 -> kappa = (0 - 0.5) / 0.5 = -1
    assert fleiss_kappa([[1, 1], [1, 1]]) == pytest.approx(-1.0)


def test_fleiss_kappa_with_a_varying_number_of_raters_weights_items_by_n_minus_one():
    # n_i = 3, 2, 2.  P_i = 1, 1, 0 with weights n_i - 1 = 2, 1, 1:
    # P_bar = (2*1 + 1*1 + 1*0) / 4 = 3/4
    # p = (3+0+1, 0+2+1) / 7 = (4/7, 3/7);  P_e = 16/49 + 9/49 = 25/49
    # kappa = (3/4 - 25/49) / (24/49) = (47/196) * (49/24) = 47/96 = 0.489583
    # Same via Fleiss-Levin-Paik: 1 - [0 + 0 + (1*1 + 1*1)/2] / [4 * 2*(4/7)(3/7)]
    #                           = 1 - 1 / (96/49) = 47/96
    assert fleiss_kappa([[3, 0], [0, 2], [1, 1]]) == pytest.approx(47 / 96)


def test_fleiss_kappa_ignores_items_nobody_rated():
    with_empty_rows = [*TWO_SIDE_TABLE, [0, 0], [0, 0]]
    assert fleiss_kappa(with_empty_rows) == pytest.approx(1 / 3)


def test_fleiss_kappa_without_any_pair_of_raters_is_none():
    assert fleiss_kappa([[1, 0], [0, 1]]) is None
    assert fleiss_kappa(np.zeros((0, 2), dtype=int)) is None


def test_fleiss_kappa_constant_n_matches_the_textbook_formula_directly():
    table = np.array(WIKIPEDIA_TABLE)
    n_items, n_raters = table.shape[0], table.sum(axis=1)[0]
    p_i = ((table**2).sum(axis=1) - n_raters) / (n_raters * (n_raters - 1))
    p_j = table.sum(axis=0) / (n_items * n_raters)
    p_bar, p_e = p_i.mean(), (p_j**2).sum()
    assert fleiss_kappa(table) == pytest.approx((p_bar - p_e) / (1 - p_e))


# ---------------------------------------------------------------- naming-invariant agreement

# The example: six pairs, 30 labelers each, split 27/3 for the favourite.
FAVOURITE_ALWAYS_A = [[27, 3]] * 6
FAVOURITE_B_ON_THREE = [[27, 3], [3, 27], [27, 3], [3, 27], [27, 3], [3, 27]]


def test_fleiss_kappa_on_pairs_changes_when_responses_are_renamed():
    """Documents why the class page must not use Fleiss' kappa for pairs.
    P_i = (27*26 + 3*2) / (30*29) = 708/870 = 0.813793 on every pair.
    Always A: p_A = 0.9, P_e = 0.81 + 0.01 = 0.82, kappa = (0.813793 - 0.82) / 0.18 = -0.0345
    B on three: p_A = 0.5, P_e = 0.5, kappa = (0.813793 - 0.5) / 0.5 = 0.627586"""
    assert pairwise_agreement(FAVOURITE_ALWAYS_A) == pytest.approx(708 / 870)
    assert round(pairwise_agreement(FAVOURITE_ALWAYS_A) * 100, 1) == 81.4
    assert fleiss_kappa(FAVOURITE_ALWAYS_A) == pytest.approx((708 / 870 - 0.82) / 0.18)
    assert round(fleiss_kappa(FAVOURITE_ALWAYS_A), 2) == -0.03
    assert round(fleiss_kappa(FAVOURITE_B_ON_THREE), 2) == 0.63


def test_bennett_s_is_the_same_however_the_favourite_is_named():
    # S = 2 * 708/870 - 1 = 546/870 = 0.627586 for both namings
    assert bennett_s(FAVOURITE_ALWAYS_A) == pytest.approx(546 / 870)
    assert bennett_s(FAVOURITE_B_ON_THREE) == pytest.approx(546 / 870)


def test_bennett_s_by_hand():
    # P_bar = 2/3 (see pairwise agreement): S = 2 * 2/3 - 1 = 1/3
    assert bennett_s(TWO_SIDE_TABLE) == pytest.approx(1 / 3)
    # unanimous items: S = 1, even when every rating is the same option (kappa: None)
    assert bennett_s([[3, 0], [3, 0]]) == 1.0
    # every item split 1/1: P_bar = 0, S = -1
    assert bennett_s([[1, 1], [1, 1]]) == -1.0
    # three options: P_bar = 0.378 on the Wikipedia table, chance 1/5:
    # S = (0.378022 - 0.2) / 0.8 = 0.222527
    assert bennett_s(WIKIPEDIA_TABLE) == pytest.approx(0.222527, abs=1e-6)


def test_bennett_s_is_none_without_a_pair_of_raters_and_needs_two_options():
    assert bennett_s([[1, 0], [0, 1]]) is None
    assert bennett_s(np.zeros((0, 2), dtype=int)) is None
    with pytest.raises(ValueError):
        bennett_s([[3], [2]])


def test_swapping_a_and_b_on_any_pairs_leaves_agreement_unchanged():
    """Property over 500 random class tables (seeded): renaming A/B on a random subset
    of pairs changes neither pairwise agreement nor S; it does change Fleiss' kappa."""
    rng = np.random.default_rng(20240611)
    kappa_moved = 0
    for _ in range(500):
        n_pairs = int(rng.integers(1, 13))
        raters = rng.integers(0, 41, size=n_pairs)
        chose_a = rng.binomial(raters, rng.uniform(0, 1, size=n_pairs))
        table = np.column_stack([chose_a, raters - chose_a])
        swap = rng.random(n_pairs) < 0.5
        renamed = np.where(swap[:, None], table[:, ::-1], table)

        assert bennett_s(renamed) == bennett_s(table)
        assert pairwise_agreement(renamed) == pairwise_agreement(table)
        before, after = fleiss_kappa(table), fleiss_kappa(renamed)
        if before is not None and after is not None and abs(before - after) > 1e-9:
            kappa_moved += 1
    assert kappa_moved > 100


def test_count_tables_must_be_two_dimensional_non_negative_whole_numbers():
    with pytest.raises(ValueError):
        fleiss_kappa([3, 0])
    with pytest.raises(ValueError):
        fleiss_kappa([[3, -1], [2, 1]])
    with pytest.raises(ValueError):
        pairwise_agreement([[1.5, 1.5], [3, 0]])
    assert math.isclose(fleiss_kappa([[3.0, 0.0], [0.0, 3.0]]), 1.0)
