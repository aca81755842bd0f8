"""Known-answer tests for the pure reward core (no database, no Django)."""

import math
import time

import numpy as np
import pytest

from labeling.reward import (
    COIN_FLIP_LOSS,
    DEFAULT_LAMBDA,
    AgreementCount,
    AILabel,
    Comparison,
    Picks,
    ResponsePair,
    RewardModel,
    Side,
    ai_agreement,
    best_of_n,
    best_of_n_expected_reward,
    beta_sweep,
    constitution_label,
    constitution_weights,
    dpo_implicit_reward,
    expected_reward,
    fit_reward_model,
    kl_divergence,
    log_partition,
    optimal_policy,
    picks_from_sides,
    rank_candidates,
    reward_spread,
    trait_tallies,
    trait_vector,
)

TRAITS = ("concise", "hedges", "refuses", "formal", "asks_clarifying", "warm")
PHRASES = {
    "concise": "more concise",
    "hedges": "more hedging",
    "refuses": "more refusing",
    "formal": "more formal",
    "asks_clarifying": "more clarifying-question-asking",
    "warm": "warmer",
}

# Six pairs where the chosen response is always clearly more concise, while the
# other traits go up in some pairs and down in others.
CONCISE_CHOSEN = np.array(
    [
        [0.9, 0.2, 0.0, 0.7, 0.1, 0.6],
        [0.8, 0.7, 0.1, 0.2, 0.6, 0.3],
        [0.9, 0.4, 0.0, 0.5, 0.2, 0.9],
        [0.7, 0.1, 0.2, 0.8, 0.7, 0.2],
        [0.8, 0.6, 0.0, 0.3, 0.3, 0.5],
        [0.9, 0.3, 0.1, 0.6, 0.5, 0.4],
    ]
)
CONCISE_REJECTED = np.array(
    [
        [0.2, 0.6, 0.1, 0.3, 0.5, 0.2],
        [0.3, 0.2, 0.0, 0.6, 0.1, 0.7],
        [0.2, 0.8, 0.1, 0.1, 0.6, 0.4],
        [0.1, 0.5, 0.0, 0.3, 0.2, 0.6],
        [0.2, 0.2, 0.1, 0.7, 0.7, 0.1],
        [0.3, 0.7, 0.0, 0.2, 0.1, 0.8],
    ]
)


def concise_picks() -> Picks:
    return Picks(CONCISE_CHOSEN, CONCISE_REJECTED)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# --- (a) tallies -------------------------------------------------------------


def test_tallies_for_hand_made_picks_give_exact_counts_and_sentences():
    names = ("concise", "formal", "warm")
    phrases = {"concise": "more concise", "formal": "more formal", "warm": "warmer"}
    picks = [
        # concise +0.5, formal -0.5, warm equal
        Comparison(chosen=[0.75, 0.25, 0.5], rejected=[0.25, 0.75, 0.5]),
        # concise +0.5, formal +0.25 exactly at the threshold (counted), warm equal
        Comparison(chosen=[0.75, 0.75, 0.5], rejected=[0.25, 0.5, 0.5]),
        # concise equal, formal -0.5, warm equal
        Comparison(chosen=[0.5, 0.0, 0.5], rejected=[0.5, 0.5, 0.5]),
    ]

    tallies = trait_tallies(picks, names, phrases=phrases, threshold=0.25)

    assert [(t.trait, t.differing, t.chose_more, t.chose_less) for t in tallies] == [
        ("concise", 2, 2, 0),
        ("formal", 3, 1, 2),
        ("warm", 0, 0, 0),
    ]
    assert [t.sentence for t in tallies] == [
        "You chose the more concise answer in 2 of 2 pairs where they differed.",
        "You chose the more formal answer in 1 of 3 pairs where they differed.",
        "No pair differed on this trait.",
    ]
    assert tallies[0].share_more == 1.0
    assert tallies[2].share_more is None


def test_tallies_treat_equal_looking_gaps_alike_despite_floating_point():
    """0.4 - 0.3 > 0.1 but 0.5 - 0.4 < 0.1 in binary floating point; both are a 0.1
    gap on the page, so both pairs count, and a gap just under 0.1 counts in neither."""
    assert 0.4 - 0.3 > 0.1 > 0.5 - 0.4  # the trap the grid avoids
    picks = [
        Comparison(chosen=[0.4], rejected=[0.3]),
        Comparison(chosen=[0.5], rejected=[0.4]),
        Comparison(chosen=[0.3], rejected=[0.4]),
        Comparison(chosen=[0.4], rejected=[0.5]),
        Comparison(chosen=[0.59], rejected=[0.5]),
    ]

    (tally,) = trait_tallies(picks, ["formal"], phrases={"formal": "more formal"})

    assert (tally.differing, tally.chose_more, tally.chose_less) == (4, 2, 2)


@pytest.mark.parametrize("threshold", [0.0, -0.1, 0.105, math.nan])
def test_tallies_refuse_a_threshold_off_the_hundredths_grid(threshold):
    with pytest.raises(ValueError, match="threshold"):
        trait_tallies([], ["warm"], phrases={"warm": "warmer"}, threshold=threshold)


def test_tally_sentence_uses_singular_pair_for_one_differing_pair():
    picks = [Comparison(chosen=[1.0], rejected=[0.0])]

    (tally,) = trait_tallies(picks, ["warm"], phrases={"warm": "warmer"})

    assert tally.sentence == "You chose the warmer answer in 1 of 1 pair where they differed."


def test_tallies_count_every_concise_pick_for_an_always_concise_learner():
    tallies = trait_tallies(concise_picks(), TRAITS, phrases=PHRASES)

    concise = tallies[0]
    assert (concise.differing, concise.chose_more) == (6, 6)
    assert concise.sentence == (
        "You chose the more concise answer in 6 of 6 pairs where they differed."
    )


def test_tallies_for_zero_picks_say_no_pair_differed():
    tallies = trait_tallies([], TRAITS, phrases=PHRASES)

    assert len(tallies) == len(TRAITS)
    assert all(t.differing == 0 and t.chose_more == 0 for t in tallies)
    assert {t.sentence for t in tallies} == {"No pair differed on this trait."}


def test_tallies_reject_a_trait_without_a_phrase():
    with pytest.raises(ValueError, match="warm"):
        trait_tallies([], ["concise", "warm"], phrases={"concise": "more concise"})


def test_trait_vector_orders_database_values_by_trait_names():
    vec = trait_vector({"warm": 0.25, "concise": 0.75}, ["concise", "warm"])

    assert vec.tolist() == [0.75, 0.25]
    with pytest.raises(ValueError, match="missing"):
        trait_vector({"concise": 0.5}, ["concise", "warm"])


# --- (b) Bradley-Terry reward model -------------------------------------------


def test_always_concise_learner_gets_largest_positive_weight_on_concise():
    model = fit_reward_model(concise_picks(), TRAITS)

    weights = model.weights_by_trait()
    assert weights["concise"] > 0
    assert max(weights, key=lambda name: abs(weights[name])) == "concise"


def test_fit_accepts_comparison_list_and_matrices_alike():
    comparisons = [
        Comparison(chosen=c, rejected=r)
        for c, r in zip(CONCISE_CHOSEN, CONCISE_REJECTED, strict=True)
    ]

    from_list = fit_reward_model(comparisons, TRAITS)
    from_matrices = fit_reward_model(concise_picks(), TRAITS)

    assert np.allclose(from_list.weights, from_matrices.weights)


def test_every_fit_runs_the_solver_because_fits_are_stored_by_the_caller(monkeypatch):
    """No per-process memo: a finished session's fit is computed once and stored in
    the database, so a cache here would only hold stale copies and memory."""
    from labeling import reward

    solver_runs = []
    real_fit = reward.LogisticRegression.fit

    def counting_fit(self, *args, **kwargs):
        solver_runs.append(1)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(reward.LogisticRegression, "fit", counting_fit)

    first = fit_reward_model(concise_picks(), TRAITS)
    again = fit_reward_model(concise_picks(), TRAITS)

    assert len(solver_runs) == 2
    assert np.array_equal(first.weights, again.weights)
    assert not hasattr(reward, "_fitted_weights")
    mirrored = fit_reward_model(Picks(CONCISE_REJECTED, CONCISE_CHOSEN), TRAITS)
    assert np.allclose(mirrored.weights, -first.weights)


def test_mirrored_picks_give_weights_near_zero():
    picks = Picks(
        np.vstack([CONCISE_CHOSEN, CONCISE_REJECTED]),
        np.vstack([CONCISE_REJECTED, CONCISE_CHOSEN]),
    )

    model = fit_reward_model(picks, TRAITS)

    assert np.all(np.abs(model.weights) < 1e-6)
    assert model.mean_loss == pytest.approx(COIN_FLIP_LOSS)


def test_preference_probability_is_sigmoid_of_reward_difference():
    model = fit_reward_model(concise_picks(), TRAITS)

    for a, b in zip(CONCISE_CHOSEN, CONCISE_REJECTED, strict=True):
        expected = sigmoid(float(np.dot(model.weights, a) - np.dot(model.weights, b)))
        assert model.preference_probability(a, b) == pytest.approx(expected, rel=1e-12)
        assert model.preference_probability(a, b) + model.preference_probability(
            b, a
        ) == pytest.approx(1.0)


def test_pick_loss_matches_minus_log_sigmoid_by_hand():
    model = fit_reward_model(concise_picks(), TRAITS)
    w = model.weights
    margin = float(w @ CONCISE_CHOSEN[0] - w @ CONCISE_REJECTED[0])

    by_hand = -math.log(1.0 / (1.0 + math.exp(-margin)))

    assert model.pick_losses[0] == pytest.approx(by_hand, rel=1e-12)
    assert model.mean_loss == pytest.approx(float(np.mean(model.pick_losses)))
    assert model.mean_loss < COIN_FLIP_LOSS
    assert np.allclose(model.losses(concise_picks()), model.pick_losses)


def test_smaller_lambda_means_a_weaker_prior_and_larger_weights():
    gentle = fit_reward_model(concise_picks(), TRAITS, lam=0.01)
    default = fit_reward_model(concise_picks(), TRAITS)

    assert default.lam == DEFAULT_LAMBDA
    assert gentle.lam == 0.01
    assert np.linalg.norm(gentle.weights) > np.linalg.norm(default.weights)


def test_fit_minimises_the_stated_objective_with_lambda():
    """The docstring's objective, checked directly: at the fitted weights its
    gradient sum_picks -(1 - sigmoid(w . d)) d + lam w is zero."""
    lam = 0.3
    model = fit_reward_model(concise_picks(), TRAITS, lam=lam)
    d = CONCISE_CHOSEN - CONCISE_REJECTED
    p_wrong = 1.0 / (1.0 + np.exp(d @ model.weights))

    gradient = -(p_wrong[:, None] * d).sum(axis=0) + lam * model.weights

    assert np.abs(gradient).max() < 1e-8


@pytest.mark.parametrize("lam", [0.0, -1.0, math.inf, math.nan])
def test_fit_refuses_a_non_positive_or_non_finite_lambda(lam):
    with pytest.raises(ValueError, match="lam"):
        fit_reward_model(concise_picks(), TRAITS, lam=lam)


def test_zero_picks_give_zero_weights_without_error():
    model = fit_reward_model([], TRAITS)

    assert model.weights.tolist() == [0.0] * len(TRAITS)
    assert model.pick_losses.size == 0
    assert model.mean_loss is None
    assert model.preference_probability(CONCISE_CHOSEN[0], CONCISE_REJECTED[0]) == 0.5


def test_identical_responses_give_zero_weights():
    same = np.full((3, len(TRAITS)), 0.5)

    model = fit_reward_model(Picks(same, same), TRAITS)

    assert model.weights.tolist() == [0.0] * len(TRAITS)
    assert model.mean_loss == pytest.approx(COIN_FLIP_LOSS)


def test_class_sized_fit_is_fast_and_recovers_true_weight_signs():
    rng = np.random.default_rng(20240611)
    true_w = np.array([2.0, -1.5, -3.0, 0.8, 1.0, -0.5])
    n = 10_000 * 6
    a = rng.random((n, len(TRAITS)))
    b = rng.random((n, len(TRAITS)))
    prefers_a = rng.random(n) < 1.0 / (1.0 + np.exp(-(a - b) @ true_w))
    chosen = np.where(prefers_a[:, None], a, b)
    rejected = np.where(prefers_a[:, None], b, a)

    start = time.perf_counter()
    model = fit_reward_model(Picks(chosen, rejected), TRAITS)
    elapsed = time.perf_counter() - start

    assert elapsed < 2.0  # target is ~1 s; allow slack for slow CI machines
    assert np.array_equal(np.sign(model.weights), np.sign(true_w))
    assert np.allclose(model.weights, true_w, atol=0.2)


# --- (c) best-of-n ----------------------------------------------------------


def test_best_of_n_returns_the_highest_reward_candidate_and_ranks_all():
    model = fit_reward_model(concise_picks(), TRAITS)
    candidates = np.array(
        [
            [0.1, 0.5, 0.0, 0.5, 0.5, 0.5],
            [0.9, 0.5, 0.0, 0.5, 0.5, 0.5],
            [0.5, 0.5, 0.0, 0.5, 0.5, 0.5],
        ]
    )

    ranking = rank_candidates(model, candidates)

    assert best_of_n(model, candidates) == 1
    assert [c.index for c in ranking] == [1, 2, 0]
    assert [c.rank for c in ranking] == [1, 2, 3]
    assert ranking[0].reward == pytest.approx(model.reward(candidates[1]))


def test_best_of_n_breaks_ties_by_first_index():
    model = fit_reward_model([], TRAITS)  # all rewards 0

    assert best_of_n(model, np.eye(len(TRAITS))[:3]) == 0


def test_reward_spread_is_max_minus_min_reward_by_hand():
    model = RewardModel(
        trait_names=("concise", "warm"),
        weights=[1.0, -2.0],
        lam=DEFAULT_LAMBDA,
        pick_losses=[],
        mean_loss=None,
    )
    # rewards: 0.5 - 0.2 = 0.3;  0.2 - 0.8 = -0.6;  0.9 - 0.0 = 0.9  ->  0.9 - (-0.6) = 1.5
    candidates = [[0.5, 0.1], [0.2, 0.4], [0.9, 0.0]]

    assert reward_spread(model, candidates) == pytest.approx(1.5)
    assert reward_spread(model, [[0.5, 0.1]]) == 0.0
    with pytest.raises(ValueError):
        reward_spread(model, np.empty((0, 2)))


@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_reward_spread_over_beta_is_the_largest_log_odds_shift_of_the_optimal_policy(beta):
    model = fit_reward_model(concise_picks(), TRAITS)
    candidates = np.vstack([CONCISE_CHOSEN[:2], CONCISE_REJECTED[:2]])
    pi_ref = np.array([0.1, 0.4, 0.3, 0.2])

    shift = np.log(optimal_policy(pi_ref, model.rewards(candidates), beta) / pi_ref)

    assert shift.max() - shift.min() == pytest.approx(reward_spread(model, candidates) / beta)


# --- (d) KL-regularised optimum ----------------------------------------------

PI_REF = np.array([0.1, 0.4, 0.3, 0.2])
REWARDS = np.array([2.0, -1.0, 0.5, 1.5])


@pytest.mark.parametrize("beta", [1e-4, 0.01, 0.3, 1.0, 7.0, 1e6])
def test_optimal_policy_sums_to_one(beta):
    pi = optimal_policy(PI_REF, REWARDS, beta)

    assert pi.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(pi >= 0)


@pytest.mark.filterwarnings("error")
def test_optimal_policy_tends_to_reference_for_huge_beta():
    pi = optimal_policy(PI_REF, REWARDS, 1e6)

    assert np.allclose(pi, PI_REF, atol=1e-5)


@pytest.mark.filterwarnings("error")
def test_optimal_policy_tends_to_reward_argmax_for_tiny_beta_without_overflow():
    pi = optimal_policy(PI_REF, 1000.0 * REWARDS, 1e-4)

    assert np.all(np.isfinite(pi))
    assert np.allclose(pi, [1.0, 0.0, 0.0, 0.0])


def test_optimal_policy_matches_the_textbook_formula_at_moderate_beta():
    beta = 0.5
    unnormalised = PI_REF * np.exp(REWARDS / beta)

    assert np.allclose(optimal_policy(PI_REF, REWARDS, beta), unnormalised / unnormalised.sum())


@pytest.mark.parametrize("beta", [0.0, -1.0, math.inf, math.nan])
def test_optimal_policy_rejects_non_positive_or_non_finite_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        optimal_policy(PI_REF, REWARDS, beta)


@pytest.mark.parametrize("beta", [0.1, 1.0, 10.0])
def test_dpo_implicit_reward_recovers_reward_up_to_minus_beta_log_z(beta):
    pi_star = optimal_policy(PI_REF, REWARDS, beta)

    offset = dpo_implicit_reward(pi_star, PI_REF, beta) - REWARDS

    log_z = math.log(float(np.sum(PI_REF * np.exp(REWARDS / beta))))
    assert np.allclose(offset, offset[0], atol=1e-9)
    assert offset[0] == pytest.approx(-beta * log_z, abs=1e-9)
    assert log_partition(PI_REF, REWARDS, beta) == pytest.approx(log_z, rel=1e-12)


def test_kl_is_zero_at_reference_and_expected_reward_rises_as_beta_falls():
    points = beta_sweep(PI_REF, REWARDS, [100.0, 1.0, 0.1])

    assert kl_divergence(PI_REF, PI_REF) == 0.0
    assert expected_reward(PI_REF, REWARDS) == pytest.approx(float(PI_REF @ REWARDS))
    rewards = [p.expected_reward for p in points]
    kls = [p.kl for p in points]
    assert rewards == sorted(rewards)
    assert kls == sorted(kls)
    assert points[0].kl < 1e-3


def test_kl_by_hand_for_two_outcomes():
    assert kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        0.5 * math.log(2.0) + 0.5 * math.log(2.0 / 3.0)
    )
    assert kl_divergence([1.0, 0.0], [0.0, 1.0]) == math.inf


# --- (e) constitution labeler ----------------------------------------------


def test_constitution_weights_sum_the_chosen_principles():
    principles = [{"concise": 1.0, "hedges": -0.5}, {"concise": 0.5, "warm": 2.0}]

    weights = constitution_weights(principles, TRAITS)

    assert weights.tolist() == [1.5, -0.5, 0.0, 0.0, 0.0, 2.0]
    assert constitution_weights([], TRAITS).tolist() == [0.0] * len(TRAITS)
    with pytest.raises(ValueError, match="concize"):
        constitution_weights([{"concize": 1.0}], TRAITS)


def test_constitution_labeler_picks_the_higher_weighted_side_and_first_on_ties():
    names = ("concise", "warm")
    weights = constitution_weights([{"concise": 1.0}, {"warm": 1.0}], names)
    pairs = [
        ResponsePair(first=[0.9, 0.1], second=[0.2, 0.1]),  # first scores higher
        ResponsePair(first=[0.1, 0.1], second=[0.1, 0.9]),  # second scores higher
        ResponsePair(first=[0.1, 0.2], second=[0.3, 0.0]),  # 0.1 + 0.2 == 0.3: tie
    ]

    labels = constitution_label(pairs, weights)

    assert [label.side for label in labels] == [Side.FIRST, Side.SECOND, Side.FIRST]
    assert [label.tie for label in labels] == [False, False, True]
    assert (labels[1].first_score, labels[1].second_score) == pytest.approx((0.2, 1.0))
    assert isinstance(labels[0], AILabel)


def test_ai_agreement_counts_matching_sides_on_decided_pairs():
    labels = [
        AILabel(side=Side.FIRST, first_score=1.0, second_score=0.0, tie=False),
        AILabel(side=Side.SECOND, first_score=0.0, second_score=1.0, tie=False),
        AILabel(side=Side.FIRST, first_score=0.5, second_score=0.0, tie=False),
    ]

    assert ai_agreement(["first", "first", "first"], labels) == AgreementCount(
        agreed=2, decided=3, ties=0
    )
    assert ai_agreement([label.side for label in labels], labels).agreed == 3
    with pytest.raises(ValueError):
        ai_agreement(["first"], labels)


def test_ai_agreement_leaves_tied_pairs_out_of_both_counts():
    """An always-left learner and a principle that ties on five of six pairs: the five
    tie-breaks to FIRST must not read as five agreements ("6 of 6")."""
    names = ("concise", "refuses")
    weights = constitution_weights([{"refuses": 1.0}], names)
    pairs = [ResponsePair(first=[0.9, 0.0], second=[0.2, 0.0]) for _ in range(5)]
    pairs.append(ResponsePair(first=[0.5, 0.9], second=[0.5, 0.1]))  # refuses differs here only
    labels = constitution_label(pairs, weights)
    always_first = [Side.FIRST] * 6

    count = ai_agreement(always_first, labels)

    assert [label.tie for label in labels] == [True] * 5 + [False]
    assert count == AgreementCount(agreed=1, decided=1, ties=5)
    assert (count.disagreed, count.share) == (0, 1.0)


def test_ai_agreement_share_is_none_when_every_pair_tied():
    tie = AILabel(side=Side.FIRST, first_score=0.0, second_score=0.0, tie=True)

    count = ai_agreement([Side.SECOND, Side.FIRST], [tie, tie])

    assert count == AgreementCount(agreed=0, decided=0, ties=2)
    assert count.share is None


def test_the_tie_counting_agreement_function_is_gone():
    from labeling import reward

    assert not hasattr(reward, "agreement")


def test_picks_from_sides_orders_chosen_and_rejected():
    pair = ResponsePair(first=[1.0, 0.0], second=[0.0, 1.0])

    first, second = picks_from_sides([pair, pair], ["first", Side.SECOND])

    assert first.chosen.tolist() == [1.0, 0.0]
    assert second.chosen.tolist() == [0.0, 1.0]


# -- best-of-n's exact expected reward under the reference policy --------------------------


def brute_force_best_of_n(rewards, probabilities, n):
    """Every ordered n-tuple of draws with its probability: the definition, no algebra."""
    import itertools

    total = 0.0
    for draw in itertools.product(range(len(rewards)), repeat=n):
        weight = math.prod(probabilities[i] for i in draw)
        total += weight * max(rewards[i] for i in draw)
    return total


def test_best_of_one_is_the_reference_expectation():
    rewards, p = [0.3, -1.2, 2.0, 0.7], [0.4, 0.3, 0.1, 0.2]
    assert best_of_n_expected_reward(rewards, p, 1) == pytest.approx(
        sum(r * q for r, q in zip(rewards, p, strict=True))
    )


def test_best_of_two_by_hand():
    # P(best = 1) = 1 - 0.75^2 = 0.4375, otherwise 0.
    assert best_of_n_expected_reward([0.0, 1.0], [0.75, 0.25], 2) == pytest.approx(0.4375)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_best_of_n_matches_enumerating_every_draw(n):
    rewards, p = [0.5, -0.25, 1.75, 1.0], [0.1, 0.5, 0.15, 0.25]
    assert best_of_n_expected_reward(rewards, p, n) == pytest.approx(
        brute_force_best_of_n(rewards, p, n), abs=1e-12
    )


def test_best_of_n_treats_tied_rewards_as_one_value():
    tied = best_of_n_expected_reward([1.0, 1.0, 0.0], [0.2, 0.3, 0.5], 2)
    merged = best_of_n_expected_reward([1.0, 0.0], [0.5, 0.5], 2)
    assert tied == pytest.approx(merged) == pytest.approx(0.75)
    assert tied == pytest.approx(brute_force_best_of_n([1.0, 1.0, 0.0], [0.2, 0.3, 0.5], 2))


def test_best_of_n_rises_with_n_towards_the_best_candidate_the_reference_can_draw():
    rewards, p = [0.2, 3.0, -1.0, 9.0], [0.5, 0.2, 0.3, 0.0]
    values = [best_of_n_expected_reward(rewards, p, n) for n in (1, 2, 4, 8, 64, 512)]
    assert values == sorted(values)
    # 9.0 has pi_ref = 0: never drawn, so the limit is 3.0, not the list's argmax.
    assert values[-1] == pytest.approx(3.0, abs=1e-12)
    assert values[3] < 3.0


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_best_of_n_refuses_a_sample_size_that_is_not_a_positive_whole_number(n):
    with pytest.raises(ValueError):
        best_of_n_expected_reward([0.0, 1.0], [0.5, 0.5], n)
