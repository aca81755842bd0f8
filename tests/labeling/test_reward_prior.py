"""The reward model's prior strength lam on the shipped pairs (pure: plain JSON, no database)."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog  # installed with scikit-learn, which needs it

from labeling.reward import (
    DEFAULT_LAMBDA,
    LAMBDA_STEPS,
    Picks,
    fit_reward_model,
    fit_reward_model_steps,
    fit_reward_models,
)

CONTENT = Path(__file__).resolve().parents[2] / "labeling" / "content"
TRAITS = [t["slug"] for t in json.loads((CONTENT / "traits.json").read_text())]
PAIRS = json.loads((CONTENT / "pairs.json").read_text())

#: A full 0-to-1 gap in one trait may change the odds at most e^3 (about 20-fold):
#: beyond that a bar chart of weights stops reading as "how much you care".
READABLE_WEIGHT = 3.0


def a_minus_b() -> np.ndarray:
    return np.array(
        [
            [p["responses"]["a"]["traits"][t] - p["responses"]["b"]["traits"][t] for t in TRAITS]
            for p in PAIRS
        ]
    )


def all_patterns() -> np.ndarray:
    """(64, 6, k): chosen - rejected for every way of picking A (+) or B (-) on six pairs."""
    signs = np.array(list(itertools.product([1.0, -1.0], repeat=len(PAIRS))))
    return signs[:, :, None] * a_minus_b()[None, :, :]


def consistent(differences: np.ndarray) -> bool:
    """Some w ranks every chosen response above its rejected one (w . d > 0 for all
    picks): maximise the smallest margin t over |w_j| <= 1 and ask whether t > 0."""
    n, k = differences.shape
    cost = np.zeros(k + 1)
    cost[-1] = -1.0  # maximise t
    rows = np.hstack([-differences, np.ones((n, 1))])  # t - w . d_i <= 0
    result = linprog(
        cost, A_ub=rows, b_ub=np.zeros(n), bounds=[(-1, 1)] * k + [(None, 1)], method="highs"
    )
    assert result.status == 0
    return -result.fun > 1e-9


def own_pick_probabilities(differences: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    weights = fit_reward_models(differences, lam=lam)
    margins = np.einsum("lmk,lk->lm", differences, weights)
    return 1.0 / (1.0 + np.exp(-margins)), weights


def test_every_pattern_of_the_shipped_pairs_is_consistent():
    """Six independent pairs: any six picks can be explained by some linear reward, so
    the prior, not the picks, is what could stop the model from reproducing them."""
    assert np.linalg.matrix_rank(a_minus_b()) == len(TRAITS) == len(PAIRS)
    assert all(consistent(pattern) for pattern in all_patterns())


def test_at_the_default_lambda_every_consistent_learner_gets_each_pick_back():
    patterns = np.array([p for p in all_patterns() if consistent(p)])
    assert len(patterns) == 64

    probabilities, weights = own_pick_probabilities(patterns, DEFAULT_LAMBDA)

    assert probabilities.min() > 0.5
    assert np.abs(weights).max() < READABLE_WEIGHT


def test_the_old_unit_prior_told_some_consistent_learners_they_lost_a_pick():
    probabilities, _ = own_pick_probabilities(all_patterns(), 1.0)

    assert probabilities.min() < 0.5


def test_an_all_a_learner_is_told_their_model_agrees_with_every_pick():
    picks = Picks(np.maximum(a_minus_b(), 0), np.maximum(-a_minus_b(), 0))  # chose A six times

    model = fit_reward_model(picks, TRAITS)

    assert model.lam == DEFAULT_LAMBDA
    assert np.exp(-model.pick_losses).min() > 0.5


def test_lambda_steps_run_from_weak_to_strong_and_include_the_default():
    assert 4 <= len(LAMBDA_STEPS) <= 6
    assert list(LAMBDA_STEPS) == sorted(LAMBDA_STEPS)
    assert DEFAULT_LAMBDA in LAMBDA_STEPS
    assert LAMBDA_STEPS[-1] > 1.0 > LAMBDA_STEPS[0]


def test_a_stronger_prior_shrinks_the_weights_step_by_step():
    picks = Picks(np.maximum(a_minus_b(), 0), np.maximum(-a_minus_b(), 0))

    norms = [np.linalg.norm(m.weights) for m in fit_reward_model_steps(picks, TRAITS)]

    assert norms == sorted(norms, reverse=True)


@pytest.mark.parametrize("pattern", [0, 21, 42, 63])
def test_steps_fitted_together_match_the_scikit_learn_fit_for_each_lambda(pattern):
    differences = all_patterns()[pattern]
    picks = Picks(differences, np.zeros_like(differences))

    steps = fit_reward_model_steps(picks, TRAITS)

    assert [m.lam for m in steps] == list(LAMBDA_STEPS)
    for model in steps:
        single = fit_reward_model(picks, TRAITS, lam=model.lam)
        assert np.abs(model.weights - single.weights).max() < 1e-6
        assert np.allclose(model.pick_losses, single.pick_losses, atol=1e-6)
        assert model.mean_loss == pytest.approx(single.mean_loss, abs=1e-6)


def test_steps_for_a_learner_without_picks_are_coin_flip_models():
    steps = fit_reward_model_steps([], TRAITS, lams=(0.1, 1.0))

    assert [m.lam for m in steps] == [0.1, 1.0]
    assert all(not m.weights.any() and m.mean_loss is None for m in steps)


def test_steps_refuse_a_non_positive_lambda():
    with pytest.raises(ValueError, match="lam"):
        fit_reward_model_steps([], TRAITS, lams=(0.1, 0.0))
