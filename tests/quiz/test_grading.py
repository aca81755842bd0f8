"""Tests for quiz.grading: pure functions, no database.

Expected values are computed by hand in the comments next to each assertion.
"""

import math

import numpy as np
import pytest

from quiz.grading import (
    DEFAULT_PASS_MARK,
    FLAG_LOW_DISCRIMINATION,
    FLAG_NEGATIVE_DISCRIMINATION,
    FLAG_VERY_EASY,
    FLAG_VERY_HARD,
    analyse_item,
    discrimination_upper_lower,
    facility,
    facility_from_counts,
    flag_item,
    group_size,
    most_chosen_wrong,
    most_chosen_wrong_from_counts,
    point_biserial,
    score_attempt,
    score_histogram,
    score_histogram_from_counts,
)

# Answer key of a 5-question attempt: question id -> correct choice id.
KEY = {1: 10, 2: 20, 3: 30, 4: 40, 5: 50}


# ------------------------------------------------------------------------ score_attempt


def test_four_of_five_correct_passes_at_pass_mark_four():
    answers = {1: 10, 2: 20, 3: 30, 4: 40, 5: 51}  # only q5 wrong -> 4/5
    result = score_attempt(answers, KEY, pass_mark=DEFAULT_PASS_MARK)
    assert result.score == 4
    assert result.total == 5
    assert result.passed is True


def test_three_of_five_correct_fails_at_pass_mark_four():
    answers = {1: 10, 2: 20, 3: 30, 4: 41, 5: 51}  # q4, q5 wrong -> 3/5
    result = score_attempt(answers, KEY, pass_mark=4)
    assert result.score == 3
    assert result.passed is False


def test_unanswered_questions_count_as_wrong():
    # q4 explicitly unanswered (None), q5 missing entirely -> 3/5, fail.
    answers = {1: 10, 2: 20, 3: 30, 4: None}
    result = score_attempt(answers, KEY, pass_mark=4)
    assert result.score == 3
    assert result.per_question[4] is False
    assert result.per_question[5] is False
    assert result.passed is False


def test_per_question_flags_follow_the_answer_key_order():
    answers = {5: 50, 1: 11, 3: 30}
    result = score_attempt(answers, KEY, pass_mark=4)
    assert list(result.per_question) == [1, 2, 3, 4, 5]
    assert result.per_question == {1: False, 2: False, 3: True, 4: False, 5: True}


def test_pass_mark_is_configurable():
    answers = {1: 10, 2: 20, 3: 30, 4: 40, 5: 51}  # 4/5
    assert score_attempt(answers, KEY, pass_mark=5).passed is False
    assert score_attempt(answers, KEY, pass_mark=3).passed is True


def test_answer_to_an_unknown_question_raises_value_error():
    with pytest.raises(ValueError, match="unknown question"):
        score_attempt({1: 10, 99: 990}, KEY, pass_mark=4)


def test_pass_mark_outside_zero_to_total_raises_value_error():
    with pytest.raises(ValueError):
        score_attempt({}, KEY, pass_mark=6)
    with pytest.raises(ValueError):
        score_attempt({}, KEY, pass_mark=-1)


def test_empty_answer_key_raises_value_error():
    with pytest.raises(ValueError):
        score_attempt({}, {}, pass_mark=0)


# ----------------------------------------------------------------------------- facility


def test_facility_is_the_share_correct():
    # 3 of 5 learners correct -> 3/5 = 0.6
    assert facility([1, 0, 1, 1, 0]) == pytest.approx(0.6)


def test_facility_from_counts_matches_facility_from_rows():
    assert facility_from_counts(3, 5) == pytest.approx(0.6)


def test_facility_with_no_responses_is_none_not_a_division_by_zero():
    assert facility([]) is None
    assert facility_from_counts(0, 0) is None


def test_facility_rejects_non_binary_scores_and_impossible_counts():
    with pytest.raises(ValueError):
        facility([1, 2, 0])
    with pytest.raises(ValueError):
        facility_from_counts(6, 5)


# ----------------------------------------------------------------------- discrimination


def test_group_size_is_rounded_27_percent_and_groups_never_overlap():
    assert group_size(10) == 3  # 0.27 * 10 = 2.7 -> 3
    assert group_size(100) == 27
    assert group_size(2) == 1  # 0.54 -> 1
    assert group_size(3, fraction=0.5) == 1  # 1.5 -> 2, capped at 3 // 2 = 1
    assert group_size(1) == 0


def test_upper_lower_discrimination_on_ten_learners_without_boundary_ties():
    totals = [5, 5, 4, 3, 3, 2, 2, 1, 0, 0]
    item = [1, 0, 1, 1, 1, 0, 1, 1, 0, 0]
    # k = round(0.27 * 10) = 3.
    # Upper 3 = totals 5, 5, 4 (next is 3, no tie) -> item 1, 0, 1 -> 2/3.
    # Lower 3 = totals 1, 0, 0 (next is 2, no tie) -> item 1, 0, 0 -> 1/3.
    # D = 2/3 - 1/3 = 1/3.
    assert discrimination_upper_lower(totals, item) == pytest.approx(1 / 3)


def test_upper_lower_discrimination_shares_boundary_ties_fractionally():
    totals = [5, 4, 4, 3, 3, 3, 2, 2, 1, 0]
    item = [1, 1, 0, 1, 0, 1, 0, 1, 0, 0]
    # k = 3.
    # Upper: 5, 4, 4 fill exactly 3 slots (next is 3) -> item 1, 1, 0 -> 2/3.
    # Lower: 0 and 1 take 2 slots; the one slot left is shared by the two learners
    # tied on 2 (items 0 and 1), weight 1/2 each:
    #   (0 + 0 + 0.5 * 0 + 0.5 * 1) / 3 = 0.5 / 3 = 1/6.
    # D = 2/3 - 1/6 = 1/2.
    assert discrimination_upper_lower(totals, item) == pytest.approx(0.5)


def test_upper_lower_discrimination_does_not_depend_on_row_order():
    totals = np.array([5, 4, 4, 3, 3, 3, 2, 2, 1, 0])
    item = np.array([1, 1, 0, 1, 0, 1, 0, 1, 0, 0])
    order = np.array([7, 2, 9, 0, 5, 3, 8, 1, 6, 4])
    assert discrimination_upper_lower(totals[order], item[order]) == pytest.approx(0.5)


def test_upper_lower_discrimination_is_negative_when_strong_learners_fail_the_item():
    totals = [4, 4, 4, 3, 2, 2, 1, 1, 1, 0]
    item = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]
    # Upper: 4, 4, 4 -> 0/3 = 0.
    # Lower: total 0 (item 0) takes 1 slot; three learners tied on 1 share the other
    # 2 slots, weight 2/3 each, all with item 1: (0 + 3 * 2/3) / 3 = 2/3.
    # D = 0 - 2/3 = -2/3.
    assert discrimination_upper_lower(totals, item) == pytest.approx(-2 / 3)


def test_upper_lower_discrimination_is_zero_when_everybody_has_the_same_total():
    assert discrimination_upper_lower([3, 3, 3, 3], [1, 0, 1, 0]) == pytest.approx(0.0)


def test_upper_lower_discrimination_needs_two_learners():
    assert discrimination_upper_lower([], []) is None
    assert discrimination_upper_lower([3], [1]) is None


def test_upper_lower_discrimination_validates_inputs():
    with pytest.raises(ValueError):
        discrimination_upper_lower([1, 2, 3], [1, 0])  # lengths differ
    with pytest.raises(ValueError):
        discrimination_upper_lower([1, 2], [1, 0], fraction=0.6)


# ------------------------------------------------------------------------ point-biserial

# 5 learners: item correct for the first three; totals include the item.
PB_TOTALS = [5, 4, 3, 3, 1]
PB_ITEM = [1, 1, 1, 0, 0]


def test_point_biserial_is_the_item_rest_correlation_by_hand():
    # rest = total - item = [4, 3, 2, 3, 1]; mean item 0.6, mean rest 13/5 = 2.6
    # dx = [.4, .4, .4, -.6, -.6]      sum dx^2 = 3(.16) + 2(.36) = 1.2
    # dy = [1.4, .4, -.6, .4, -1.6]    sum dy^2 = 1.96+.16+.36+.16+2.56 = 5.2
    # sum dx*dy = .56 + .16 - .24 - .24 + .96 = 1.2
    # r = 1.2 / sqrt(1.2 * 5.2) = sqrt(1.2 / 5.2) = sqrt(3/13) = 0.480384
    # Cross-check with r = (M1 - M0) / s * sqrt(p q): M1 = 3, M0 = 2,
    # s = sqrt(5.2 / 5) = 1.019804, sqrt(.6 * .4) = 0.489898 -> 0.480384.
    assert point_biserial(PB_TOTALS, PB_ITEM) == pytest.approx(math.sqrt(3 / 13))
    assert point_biserial(PB_TOTALS, PB_ITEM) == pytest.approx(0.480384, abs=1e-6)


def test_uncorrected_point_biserial_is_the_item_total_correlation_by_hand():
    # dy = totals - 3.2 = [1.8, .8, -.2, -.2, -2.2]   sum dy^2 = 8.8
    # sum dx*dy = .72 + .32 - .08 + .12 + 1.32 = 2.4
    # r = 2.4 / sqrt(1.2 * 8.8) = 2.4 / sqrt(10.56) = 0.738549 (inflated vs 0.480)
    r = point_biserial(PB_TOTALS, PB_ITEM, corrected=False)
    assert r == pytest.approx(2.4 / math.sqrt(10.56))
    assert r == pytest.approx(0.738549, abs=1e-6)


def test_point_biserial_agrees_with_numpy_corrcoef_on_every_item():
    responses = np.array(
        [
            [1, 1, 1, 1, 0],
            [1, 0, 1, 1, 1],
            [1, 1, 0, 1, 0],
            [0, 1, 1, 0, 0],
            [1, 0, 0, 1, 0],
            [0, 0, 1, 0, 1],
            [1, 1, 1, 1, 1],
            [0, 0, 0, 1, 0],
        ]
    )
    totals = responses.sum(axis=1)
    for column in responses.T:
        expected_rest = np.corrcoef(column, totals - column)[0, 1]
        expected_total = np.corrcoef(column, totals)[0, 1]
        assert point_biserial(totals, column) == pytest.approx(expected_rest)
        assert point_biserial(totals, column, corrected=False) == pytest.approx(expected_total)
    assert point_biserial(PB_TOTALS, PB_ITEM) == pytest.approx(
        np.corrcoef(PB_ITEM, np.subtract(PB_TOTALS, PB_ITEM))[0, 1]
    )


def test_point_biserial_is_none_when_a_variance_is_zero():
    assert point_biserial([5, 3, 1], [1, 1, 1]) is None  # everybody correct
    assert point_biserial([0, 0, 0], [0, 0, 0]) is None  # everybody wrong
    assert point_biserial([3, 2, 3, 2], [1, 0, 1, 0]) is None  # rest = [2, 2, 2, 2]
    assert point_biserial([3], [1]) is None
    assert point_biserial([], []) is None


# --------------------------------------------------------------------- most chosen wrong


def test_most_chosen_wrong_counts_the_popular_distractor():
    chosen = [11, 12, 12, 13, None, 12, 11, 13, 13, 13]
    # correct = 13 (4 picks, ignored); None ignored; 11 x2, 12 x3 -> (12, 3)
    assert most_chosen_wrong(chosen, correct_id=13) == (12, 3)


def test_most_chosen_wrong_breaks_ties_by_smallest_choice_id():
    # 11 x2, 12 x2 (correct 10 ignored) -> (11, 2)
    assert most_chosen_wrong([12, 11, 12, 11, 10], correct_id=10) == (11, 2)


def test_most_chosen_wrong_is_none_when_nobody_picked_a_wrong_choice():
    assert most_chosen_wrong([10, 10, None], correct_id=10) is None
    assert most_chosen_wrong([], correct_id=10) is None


def test_most_chosen_wrong_from_counts_accepts_a_group_by_result():
    counts = {10: 4, 11: 2, 12: 3, 13: 0}
    assert most_chosen_wrong_from_counts(counts, correct_id=10) == (12, 3)
    assert most_chosen_wrong_from_counts({10: 5, 11: 0}, correct_id=10) is None


# ---------------------------------------------------------------------------- flag_item


def test_flag_item_reports_a_very_hard_item():
    assert flag_item(0.1, 0.5) == [FLAG_VERY_HARD]
    assert FLAG_VERY_HARD == "very hard (facility < 0.2)"


def test_flag_item_reports_a_very_easy_item_with_low_discrimination():
    assert flag_item(0.97, 0.1) == [FLAG_VERY_EASY, FLAG_LOW_DISCRIMINATION]
    assert FLAG_VERY_EASY == "very easy (facility > 0.95)"
    assert FLAG_LOW_DISCRIMINATION == "low discrimination (< 0.2)"


def test_flag_item_reports_negative_discrimination_as_a_possible_wrong_key():
    assert flag_item(0.6, -0.3) == [FLAG_NEGATIVE_DISCRIMINATION]
    assert "check the key" in FLAG_NEGATIVE_DISCRIMINATION


def test_flag_item_reports_nothing_for_a_healthy_item_or_boundary_values():
    assert flag_item(0.6, 0.35) == []
    assert flag_item(0.2, 0.2) == []  # thresholds are strict
    assert flag_item(0.95, 0.2) == []


def test_flag_item_treats_zero_discrimination_as_low_not_negative():
    assert flag_item(0.5, 0.0) == [FLAG_LOW_DISCRIMINATION]


def test_flag_item_skips_undefined_statistics():
    assert flag_item(None, None) == []
    assert flag_item(float("nan"), float("nan")) == []


def test_analyse_item_bundles_the_statistics_and_flags():
    totals = [4, 4, 4, 3, 2, 2, 1, 1, 1, 0]
    item = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]
    chosen = [21, 21, 22, 21, 20, 20, 20, 20, 20, None]
    stats = analyse_item(totals, item, chosen, correct_id=20)
    assert stats.n_learners == 10
    assert stats.facility == pytest.approx(0.5)
    assert stats.discrimination == pytest.approx(-2 / 3)  # see the test above
    assert stats.point_biserial == pytest.approx(np.corrcoef(item, np.subtract(totals, item))[0, 1])
    assert stats.most_chosen_wrong == (21, 3)
    assert stats.flags == [FLAG_NEGATIVE_DISCRIMINATION]


# ---------------------------------------------------------------------------- histogram


def test_score_histogram_counts_attempts_per_score():
    # scores 0: x1, 3: x1, 4: x3, 5: x2
    assert score_histogram([5, 4, 4, 3, 0, 5, 4], total=5) == [1, 0, 0, 1, 3, 2]


def test_score_histogram_from_counts_fills_missing_scores_with_zero():
    assert score_histogram_from_counts({4: 3, 5: 2, 0: 1, 3: 1}, total=5) == [1, 0, 0, 1, 3, 2]


def test_score_histogram_of_no_attempts_is_all_zeros():
    assert score_histogram([], total=5) == [0, 0, 0, 0, 0, 0]
    assert score_histogram_from_counts({}, total=5) == [0, 0, 0, 0, 0, 0]


def test_score_histogram_rejects_scores_outside_the_range_or_fractional():
    with pytest.raises(ValueError):
        score_histogram([6], total=5)
    with pytest.raises(ValueError):
        score_histogram([-1], total=5)
    with pytest.raises(ValueError):
        score_histogram([3.5], total=5)
    with pytest.raises(ValueError):
        score_histogram_from_counts({6: 1}, total=5)
