"""What a pair design can tell apart: condition number and confounded traits (pure, no database)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from labeling.reward import DEFAULT_MAX_CONDITION, design_check

CONTENT = Path(__file__).resolve().parents[2] / "labeling" / "content"
TRAITS = ("concise", "hedges", "refuses", "formal", "clarifies", "warm")

#: The six pairs as first shipped (A - B per trait): late-report moved formal and warm
#: together, failed-exam moved warm and concise together.
FIRST_SHIPPED = np.array(
    [
        [0.8, -0.1, 0.0, -0.1, 0.0, 0.0],  # boil-egg
        [0.2, -0.9, 0.0, 0.0, 0.0, 0.0],  # moon-distance
        [0.1, 0.0, 0.8, 0.1, 0.0, 0.0],  # locked-out
        [0.0, 0.0, 0.0, 0.8, 0.0, -0.6],  # late-report
        [0.1, -0.1, 0.0, 0.0, -0.9, -0.1],  # python-sort
        [-0.6, 0.1, 0.0, -0.1, 0.0, 0.8],  # failed-exam
    ]
)


def shipped_differences() -> np.ndarray:
    names = [t["slug"] for t in json.loads((CONTENT / "traits.json").read_text())]
    assert tuple(names) == TRAITS
    pairs = json.loads((CONTENT / "pairs.json").read_text())
    return np.array(
        [
            [p["responses"]["a"]["traits"][t] - p["responses"]["b"]["traits"][t] for t in TRAITS]
            for p in pairs
        ]
    )


def test_a_design_that_tests_each_trait_alone_is_perfectly_conditioned():
    check = design_check(0.8 * np.eye(6), TRAITS)

    assert check.condition_number == pytest.approx(1.0)
    assert check.singular_values == pytest.approx((0.8,) * 6)
    assert (check.confounded, check.invisible) == ((), ())


def test_condition_number_of_a_chained_pair_is_the_golden_ratio_squared():
    # [[1, 0], [-1, 1]] has singular values phi and 1/phi: condition phi^2 = (3 + sqrt 5) / 2.
    check = design_check([[1.0, 0.0], [-1.0, 1.0]], ("concise", "warm"))

    assert check.condition_number == pytest.approx((3 + math.sqrt(5)) / 2)
    assert check.confounded == ()


def test_traits_that_always_move_together_are_reported_as_one_group():
    design = 0.8 * np.eye(6)
    design[:, 5] = -0.75 * design[:, 3]  # warm falls whenever formal rises, never alone

    check = design_check(design, TRAITS)

    assert check.condition_number == math.inf
    assert check.singular_values[-1] == pytest.approx(0.0, abs=1e-12)
    assert check.confounded == (("formal", "warm"),)
    assert check.invisible == ()


def test_two_traits_never_varied_are_two_invisible_traits_not_a_pair():
    design = 0.8 * np.eye(6)
    design[1, 1] = design[4, 4] = 0.0  # hedges and clarifies never differ

    check = design_check(design, TRAITS)

    assert check.condition_number == math.inf
    assert check.confounded == ()
    assert check.invisible == ("hedges", "clarifies")


def test_fewer_pairs_than_traits_leave_the_unpaired_trait_invisible():
    check = design_check(0.8 * np.eye(6)[:5], TRAITS)

    assert check.condition_number == math.inf
    assert len(check.singular_values) == 6
    assert check.invisible == ("warm",)


def test_no_pairs_at_all_leave_every_trait_invisible():
    check = design_check(np.zeros((0, 6)), TRAITS)

    assert check.condition_number == math.inf
    assert check.invisible == TRAITS


def test_first_shipped_pairs_chain_formal_and_warm_through_one_pair():
    """The issue's complaint, quantified: the weakest direction (singular value 0.35
    against 1.34) is mostly formal and warm, read only through late-report."""
    check = design_check(FIRST_SHIPPED, TRAITS)
    strict = design_check(FIRST_SHIPPED, TRAITS, max_condition=3)

    assert check.condition_number == pytest.approx(3.8310, abs=1e-4)
    assert check.confounded == ()  # full rank: the other pairs do separate them, weakly
    assert strict.confounded == (("formal", "warm"),)


def test_shipped_pairs_are_well_conditioned_and_confound_nothing():
    """Bound 3: six traits in six pairs with concise tested twice must read one trait
    (warm) through a pair it shares with concise; that 2x2 block alone has condition
    phi^2 = 2.62 at equal gaps, and 3 leaves room for the 0.1 side gaps. The first
    design (3.83) fails it."""
    check = design_check(shipped_differences(), TRAITS)

    assert check.condition_number < 3
    assert check.condition_number == pytest.approx(2.5276, abs=1e-4)
    assert (check.confounded, check.invisible) == ((), ())
    assert design_check(shipped_differences(), TRAITS, max_condition=3).confounded == ()
    assert check.condition_number < DEFAULT_MAX_CONDITION


@pytest.mark.parametrize(
    ("differences", "names", "kwargs"),
    [
        (np.zeros((2, 3)), ("a", "b"), {}),  # one name short
        (np.zeros(3), ("a", "b", "c"), {}),  # not a matrix
        (np.zeros((2, 0)), (), {}),  # no traits
        (np.eye(2), ("a", "b"), {"max_condition": 1.0}),
        (np.full((1, 1), np.nan), ("a",), {}),
    ],
)
def test_design_check_refuses_bad_input(differences, names, kwargs):
    with pytest.raises(ValueError):
        design_check(differences, names, **kwargs)
