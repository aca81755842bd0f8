"""The over-optimisation maths against closed forms and brute force (no database)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from labs import overopt
from labs.overopt import PromptRewards

#: Proxy and gold agree on A, the proxy overrates B (rare under the reference): the
#: textbook shape, the gold rises then falls.
HACKABLE = PromptRewards.of([0.25, 0.05, 0.7], [1.0, 1.5, 0.0], [1.0, -1.0, 0.0])


def random_prompt(rng: np.random.Generator, k: int = 5) -> PromptRewards:
    return PromptRewards.of(rng.dirichlet(np.ones(k)), rng.normal(size=k), rng.normal(size=k))


def brute_force_best_of_n(pi_ref, proxy, n: int) -> np.ndarray:
    """Every sequence of n draws, keeping the first draw with the highest proxy."""
    k = len(pi_ref)
    result = np.zeros(k)
    for draws in itertools.product(range(k), repeat=n):
        prob = math.prod(pi_ref[d] for d in draws)
        top = max(proxy[d] for d in draws)
        first = next(d for d in draws if proxy[d] == top)
        result[first] += prob
    return result


def test_a_huge_beta_is_the_reference_policy_with_kl_zero():
    point = overopt.policy_point([HACKABLE], 1e9)
    assert point.kl == pytest.approx(0.0, abs=1e-12)
    assert point.proxy == pytest.approx(0.0, abs=1e-8)
    assert point.gold == pytest.approx(0.0, abs=1e-8)
    assert point.entropy_bits == pytest.approx(overopt.entropy_bits(HACKABLE.pi_ref))


def test_a_tiny_beta_puts_everything_on_the_proxys_favourite():
    point = overopt.policy_point([HACKABLE], 1e-6)
    z_proxy = overopt.standardise(HACKABLE.pi_ref, HACKABLE.proxy)
    z_gold = overopt.standardise(HACKABLE.pi_ref, HACKABLE.gold)
    assert point.proxy == pytest.approx(z_proxy[1])  # B, the proxy's argmax
    assert point.gold == pytest.approx(z_gold[1])
    assert point.kl == pytest.approx(-math.log(0.05))  # KL(δ_B ‖ π_ref) = log 1/π_ref(B)
    assert point.entropy_bits == pytest.approx(0.0, abs=1e-9)


def test_a_tiny_beta_splits_a_tie_in_proportion_to_the_reference():
    prompt = PromptRewards.of([0.1, 0.3, 0.6], [2.0, 2.0, 0.0], [0.0, 1.0, 0.0])
    point = overopt.policy_point([prompt], 1e-6)
    z_gold = overopt.standardise(prompt.pi_ref, prompt.gold)
    assert point.gold == pytest.approx(0.25 * z_gold[0] + 0.75 * z_gold[1])
    assert point.entropy_bits == pytest.approx(-(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75)))


def test_the_reference_point_starts_every_curve_at_zero():
    point = overopt.reference_point([HACKABLE])
    assert (point.kl, point.proxy, point.gold) == (0.0, 0.0, 0.0)
    assert point.beta_text == "∞"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_as_beta_falls_kl_and_the_proxy_only_rise(seed):
    rng = np.random.default_rng(seed)
    prompts = [random_prompt(rng) for _ in range(3)]
    points = overopt.sweep(prompts)
    assert [p.beta for p in points] == sorted((p.beta for p in points), reverse=True)
    kls = np.array([p.kl for p in points])
    proxies = np.array([p.proxy for p in points])
    assert np.all(np.diff(kls) >= -1e-12)
    assert np.all(np.diff(proxies) >= -1e-12)  # π*_β is the proxy's best at its KL


def test_the_hackable_prompt_rises_then_falls():
    points = [overopt.reference_point([HACKABLE]), *overopt.sweep([HACKABLE])]
    turn = overopt.gold_turn([p.gold for p in points])
    assert turn.shape == "rise-then-fall"
    assert 0 < turn.peak_index < len(points) - 1
    assert turn.peak_gold > 0 > turn.last_gold


def test_gold_turn_names_the_three_shapes():
    assert overopt.gold_turn([0, 1, 2, 3]).shape == "no-fall"
    assert overopt.gold_turn([0, 1, 0.5]).shape == "rise-then-fall"
    assert overopt.gold_turn([0, -1, -2]).shape == "falls"
    assert overopt.gold_turn([0, 1, 1 - 1e-5]).shape == "no-fall"  # within the tolerance


def test_best_of_one_is_the_reference_policy():
    rng = np.random.default_rng(3)
    prompt = random_prompt(rng)
    assert overopt.best_of_n_policy(prompt.pi_ref, prompt.proxy, 1) == pytest.approx(prompt.pi_ref)
    point = overopt.best_of_n_curve([prompt], [1])[0]
    assert (point.kl_bon, point.proxy, point.gold) == (0.0, pytest.approx(0), pytest.approx(0))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_best_of_n_matches_enumerating_every_draw(n):
    rng = np.random.default_rng(n)
    pi_ref = rng.dirichlet(np.ones(4))
    proxy = np.array([0.3, 1.2, 1.2, -0.4])  # a tie between candidates 1 and 2
    exact = overopt.best_of_n_policy(pi_ref, proxy, n)
    assert exact == pytest.approx(brute_force_best_of_n(pi_ref, proxy, n), abs=1e-12)
    assert exact.sum() == pytest.approx(1.0)


def test_best_of_many_lands_on_the_top_level():
    pi_ref = np.array([0.5, 0.3, 0.2])
    policy = overopt.best_of_n_policy(pi_ref, np.array([0.0, 1.0, 1.0]), 400)
    assert policy == pytest.approx([0.0, 0.6, 0.4], abs=1e-12)


def test_kl_bon_is_log_n_minus_n_minus_one_over_n():
    assert overopt.kl_bon(1) == 0.0
    assert overopt.kl_bon(2) == pytest.approx(math.log(2) - 0.5)
    assert overopt.kl_bon(64) == pytest.approx(math.log(64) - 63 / 64)
    with pytest.raises(ValueError):
        overopt.kl_bon(0)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_over_a_finite_set_the_exact_kl_stays_under_the_formula(seed):
    prompt = random_prompt(np.random.default_rng(seed))
    for point in overopt.best_of_n_curve([prompt], range(1, overopt.BON_MAX + 1)):
        assert point.kl_exact <= point.kl_bon + 1e-12


def test_entropy_in_bits():
    assert overopt.entropy_bits(np.full(8, 1 / 8)) == pytest.approx(3.0)
    assert overopt.entropy_bits([1.0, 0.0, 0.0]) == 0.0
    assert overopt.entropy_bits([0.5, 0.5]) == pytest.approx(1.0)


def test_standardised_rewards_have_mean_zero_and_sd_one_under_the_reference():
    rng = np.random.default_rng(7)
    prompt = random_prompt(rng)
    z = overopt.standardise(prompt.pi_ref, prompt.proxy)
    assert prompt.pi_ref @ z == pytest.approx(0.0, abs=1e-12)
    assert prompt.pi_ref @ z**2 == pytest.approx(1.0)
    assert not overopt.standardise(prompt.pi_ref, np.full(5, 2.0)).any()  # flat reads 0


def test_candidate_strengths_rank_the_picks():
    scores = overopt.candidate_strengths(4, [(0, 1), (1, 2)])
    assert scores[0] > scores[1] > scores[2]
    assert scores[3] == pytest.approx(0.0, abs=1e-12)  # never compared
    assert not overopt.candidate_strengths(3, []).any()
    with pytest.raises(ValueError):
        overopt.candidate_strengths(3, [(1, 1)])


def test_bad_prompts_are_refused():
    with pytest.raises(ValueError):
        PromptRewards.of([0.5, 0.5], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        PromptRewards.of([0.0, 1.0], [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        overopt.sweep([])


def test_the_batched_sweep_matches_the_sweep_learner_by_learner():
    rng = np.random.default_rng(11)
    pi_refs = [rng.dirichlet(np.ones(5)) for _ in range(3)]
    golds = [rng.normal(size=5) for _ in range(3)]
    proxies = [rng.normal(size=(4, 5)) for _ in range(3)]
    many = overopt.sweep_many(pi_refs, proxies, golds)
    for learner in range(4):
        prompts = [PromptRewards.of(pi_refs[j], proxies[j][learner], golds[j]) for j in range(3)]
        one = overopt.sweep(prompts)
        assert many.kl[learner] == pytest.approx([p.kl for p in one], abs=1e-9)
        assert many.proxy[learner] == pytest.approx([p.proxy for p in one], abs=1e-9)
        assert many.gold[learner] == pytest.approx([p.gold for p in one], abs=1e-9)


@pytest.mark.parametrize("seed", [12, 13])
def test_the_batched_sweep_matches_labelings_optimal_policy_beta_by_beta(seed):
    from labeling import reward

    rng = np.random.default_rng(seed)
    prompts = [random_prompt(rng) for _ in range(3)]
    for point in overopt.sweep(prompts, [50.0, 1.0, 0.1, 0.003]):
        pis = [reward.optimal_policy(p.pi_ref, p.proxy, point.beta) for p in prompts]
        kl = np.mean(
            [reward.kl_divergence(pi, p.pi_ref) for pi, p in zip(pis, prompts, strict=True)]
        )
        gold = np.mean(
            [pi @ overopt.standardise(p.pi_ref, p.gold) for pi, p in zip(pis, prompts, strict=True)]
        )
        entropy = np.mean([overopt.entropy_bits(pi) for pi in pis])
        assert (point.kl, point.gold, point.entropy_bits) == (
            pytest.approx(kl, abs=1e-12),
            pytest.approx(gold, abs=1e-12),
            pytest.approx(entropy, abs=1e-12),
        )


def test_best_of_n_for_every_n_at_once_matches_one_n_at_a_time():
    rng = np.random.default_rng(14)
    pi_ref = rng.dirichlet(np.ones(5))
    proxy = np.array([0.2, 0.9, 0.9, -1.0, 0.5])
    batch = overopt.best_of_n_policies(pi_ref, proxy, range(1, 65))
    for n in (1, 2, 7, 64):
        assert batch[n - 1] == pytest.approx(overopt.best_of_n_policy(pi_ref, proxy, n))
