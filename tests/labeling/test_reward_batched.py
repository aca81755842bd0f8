"""The batched Bradley-Terry fit for a whole class: same answer as the per-learner sklearn fit."""

from __future__ import annotations

import time

import numpy as np
import pytest

from labeling.reward import LAMBDA_STEPS, Picks, fit_reward_model, fit_reward_models

NAMES = ["t0", "t1", "t2", "t3", "t4", "t5"]


def sklearn_weights(differences: np.ndarray, **kwargs) -> np.ndarray:
    picks = Picks(differences, np.zeros_like(differences))
    return fit_reward_model(picks, NAMES[: differences.shape[1]], **kwargs).weights


def test_batched_fit_matches_sklearn_per_learner_on_random_data():
    rng = np.random.default_rng(7)
    differences = rng.uniform(-1, 1, size=(40, 6, 6))
    batched = fit_reward_models(differences)
    for learner in range(40):
        assert np.abs(batched[learner] - sklearn_weights(differences[learner])).max() < 1e-6


def test_batched_fit_ignores_masked_picks():
    rng = np.random.default_rng(8)
    differences = rng.uniform(-1, 1, size=(10, 6, 6))
    mask = np.ones((10, 6))
    mask[:, 4:] = 0  # only the first four picks count
    batched = fit_reward_models(differences, mask)
    for learner in range(10):
        expected = sklearn_weights(differences[learner, :4])
        assert np.abs(batched[learner] - expected).max() < 1e-6


def test_counts_mean_repeated_picks():
    """A class fitted from GROUP BY counts equals the fit over every pick listed out."""
    rng = np.random.default_rng(9)
    differences = rng.uniform(-1, 1, size=(1, 12, 6))
    counts = rng.integers(0, 300, size=(1, 12))
    batched = fit_reward_models(differences, counts)[0]
    listed = np.repeat(differences[0], counts[0], axis=0)
    assert np.abs(batched - sklearn_weights(listed)).max() < 1e-6


def test_each_learner_can_have_its_own_lambda():
    rng = np.random.default_rng(11)
    differences = rng.uniform(-1, 1, size=(len(LAMBDA_STEPS), 6, 6))
    batched = fit_reward_models(differences, lam=np.array(LAMBDA_STEPS))
    for learner, lam in enumerate(LAMBDA_STEPS):
        expected = sklearn_weights(differences[learner], lam=lam)
        assert np.abs(batched[learner] - expected).max() < 1e-6


def test_learner_without_picks_gets_zero_weights():
    differences = np.zeros((2, 6, 6))
    differences[1, 0, 0] = 1.0
    weights = fit_reward_models(differences)
    assert np.all(weights[0] == 0)
    assert weights[1, 0] > 0


def test_empty_class_gives_empty_weights():
    assert fit_reward_models(np.zeros((0, 6, 6))).shape == (0, 6)


@pytest.mark.parametrize(
    ("differences", "counts"),
    [
        (np.zeros((2, 6)), None),  # not 3-D
        (np.zeros((2, 6, 6)), np.ones((2, 5))),  # counts of the wrong shape
        (np.zeros((2, 6, 6)), -np.ones((2, 6))),  # negative counts
        (np.full((1, 1, 1), np.nan), None),  # not finite
    ],
)
def test_bad_input_is_refused(differences, counts):
    with pytest.raises(ValueError):
        fit_reward_models(differences, counts)


@pytest.mark.parametrize("lam", [0.0, -1.0, np.inf, [0.1, 0.1, 0.1], [[0.1, 0.1]]])
def test_bad_lambda_is_refused(lam):
    with pytest.raises(ValueError, match="lam"):
        fit_reward_models(np.zeros((2, 6, 6)), lam=lam)


def test_ten_thousand_learners_fit_in_well_under_a_second_each_batch():
    rng = np.random.default_rng(10)
    differences = rng.uniform(-1, 1, size=(10_000, 6, 6))
    started = time.perf_counter()
    weights = fit_reward_models(differences)
    assert time.perf_counter() - started < 5
    assert np.abs(weights[123] - sklearn_weights(differences[123])).max() < 1e-6
