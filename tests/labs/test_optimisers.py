"""Known-answer tests for the optimiser labs' pure core (no database)."""

import itertools
import math

import numpy as np
import pytest

from labeling import reward
from labs import optimisers as opt

# One held-out prompt's reference probabilities and a learner-like reward over them.
PI_REF = np.array([0.40, 0.10, 0.20, 0.15, 0.15])
REWARDS = np.array([0.3, 1.6, -0.4, 0.9, -1.2])

TRAITS = ["concise", "hedges", "refuses", "formal", "clarifies", "warm"]
# The shipped pairs' responses (labeling/content/pairs.json), a and b.
PAIRS_A = np.array(
    [
        [0.9, 0.2, 0.0, 0.4, 0.0, 0.3],
        [0.7, 0.0, 0.0, 0.5, 0.0, 0.2],
        [0.5, 0.1, 0.9, 0.5, 0.0, 0.4],
        [0.6, 0.1, 0.0, 0.9, 0.0, 0.2],
        [0.7, 0.0, 0.0, 0.4, 0.0, 0.2],
        [0.3, 0.1, 0.0, 0.3, 0.0, 0.9],
    ]
)
PAIRS_B = np.array(
    [
        [0.1, 0.3, 0.0, 0.5, 0.0, 0.3],
        [0.5, 0.9, 0.0, 0.5, 0.0, 0.2],
        [0.4, 0.1, 0.1, 0.4, 0.0, 0.4],
        [0.6, 0.1, 0.0, 0.1, 0.0, 0.3],
        [0.6, 0.1, 0.0, 0.4, 0.9, 0.3],
        [0.9, 0.0, 0.0, 0.4, 0.0, 0.1],
    ]
)


def picks(pattern):
    first = np.array(pattern, dtype=bool)[:, None]
    return np.where(first, PAIRS_A, PAIRS_B), np.where(first, PAIRS_B, PAIRS_A)


# --- policy gradient ---------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_kl_objective_gradient_matches_finite_differences(beta):
    theta = np.log(PI_REF) + np.array([0.3, -0.2, 0.5, 0.0, -0.7])
    grad = opt.kl_objective_gradient(theta, PI_REF, REWARDS, beta)
    h = 1e-6
    numeric = np.array(
        [
            (
                opt.kl_objective(theta + h * e, PI_REF, REWARDS, beta)
                - opt.kl_objective(theta - h * e, PI_REF, REWARDS, beta)
            )
            / (2 * h)
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(grad, numeric, atol=1e-7)


def test_kl_objective_gradient_vanishes_exactly_at_the_optimum():
    optimum = reward.optimal_policy(PI_REF, REWARDS, 0.5)
    grad = opt.kl_objective_gradient(np.log(optimum), PI_REF, REWARDS, 0.5)
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)


def test_reinforce_estimate_is_unbiased():
    """Averaged over many batches, the sampled gradient is the exact one."""
    beta = 0.5
    theta = np.log(PI_REF) + np.array([0.2, 0.1, -0.3, 0.4, 0.0])
    pi = opt.softmax(theta)
    rng = np.random.default_rng(7)
    total = np.zeros(pi.size)
    batches = 20_000
    for _ in range(batches):
        answers = opt.sample(rng, pi, 4)
        scores = REWARDS[answers] - beta * np.log(pi[answers] / PI_REF[answers])
        total += opt.reinforce_gradient(pi, answers, opt._leave_one_out(scores))
    exact = opt.kl_objective_gradient(theta, PI_REF, REWARDS, beta)
    np.testing.assert_allclose(total / batches, exact, atol=4e-3)


def test_leave_one_out_baseline_known_answer():
    advantages = opt._leave_one_out(np.array([1.0, 2.0, 6.0]))
    np.testing.assert_allclose(advantages, [1 - 4, 2 - 3.5, 6 - 1.5])


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 42])
def test_policy_gradient_converges_to_the_exact_optimum(seed, clip):
    """Tolerance: KL(pi || pi*_beta) below 1e-3 nats after 400 steps of 8 answers at
    beta = 0.5 and learning rate 1, for every seed tried, from 0.19 nats at the start."""
    settings = opt.PGSettings(beta=0.5, batch=8, lr=1.0, clip=clip)
    run = opt.policy_gradient_run(PI_REF, REWARDS, settings, seed=seed, steps=400)
    assert run.steps[0].kl_to_optimum > 0.1
    assert run.final.kl_to_optimum < 1e-3
    np.testing.assert_allclose(run.final.policy, run.optimum, atol=0.02)
    assert run.final.objective == pytest.approx(run.optimum_objective, abs=1e-3)


def test_policy_gradient_is_deterministic_for_a_seed_and_differs_across_seeds():
    settings = opt.PGSettings(beta=0.5)
    a = opt.policy_gradient_run(PI_REF, REWARDS, settings, seed=3, steps=30)
    b = opt.policy_gradient_run(PI_REF, REWARDS, settings, seed=3, steps=30)
    c = opt.policy_gradient_run(PI_REF, REWARDS, settings, seed=4, steps=30)
    assert [s.answers for s in a.steps] == [s.answers for s in b.steps]
    np.testing.assert_array_equal(a.final.policy, b.final.policy)
    assert [s.answers for s in a.steps] != [s.answers for s in c.steps]


def test_a_longer_run_extends_a_shorter_one():
    """The URL's step count is a prefix: stepping x10 from step 5 shows the same first 5."""
    settings = opt.PGSettings(beta=0.5, clip=True)
    short = opt.policy_gradient_run(PI_REF, REWARDS, settings, seed=9, steps=5)
    long = opt.policy_gradient_run(PI_REF, REWARDS, settings, seed=9, steps=15)
    for s, t in zip(short.steps, long.steps[:6], strict=True):
        np.testing.assert_array_equal(s.policy, t.policy)


def test_policy_gradient_starts_at_the_reference_and_stays_put_at_the_optimum():
    run = opt.policy_gradient_run(PI_REF, REWARDS, opt.PGSettings(beta=0.5), seed=0, steps=0)
    np.testing.assert_allclose(run.steps[0].policy, PI_REF)
    assert run.steps[0].kl_to_ref == pytest.approx(0.0, abs=1e-15)
    # Starting from pi*: every score equals beta log Z, every advantage is 0.
    optimum = reward.optimal_policy(PI_REF, REWARDS, 0.5)
    at_optimum = opt.policy_gradient_run(
        optimum, np.zeros(5), opt.PGSettings(beta=0.5), seed=0, steps=20
    )
    assert all(a == pytest.approx(0.0, abs=1e-12) for s in at_optimum.steps for a in s.advantages)


def test_ppo_clip_switches_gradients_off():
    """With a large step the policy overshoots inside the inner epochs; the clip then stops
    some answers from pushing further."""
    settings = opt.PGSettings(beta=0.2, batch=8, lr=3.0, clip=True)
    run = opt.policy_gradient_run(PI_REF, REWARDS, settings, seed=5, steps=20)
    assert any(s.clipped > 0 for s in run.steps)
    plain = opt.policy_gradient_run(
        PI_REF, REWARDS, opt.PGSettings(beta=0.2, batch=8, lr=3.0), seed=5, steps=20
    )
    assert all(s.clipped == 0 for s in plain.steps)


@pytest.mark.parametrize(
    ("seed", "steps"), [(-1, 1), (opt.MAX_SEED + 1, 1), (0, -1), (0, opt.MAX_STEPS + 1)]
)
def test_out_of_range_state_is_refused(seed, steps):
    with pytest.raises(ValueError, match="whole number"):
        opt.policy_gradient_run(PI_REF, REWARDS, opt.PGSettings(beta=1), seed=seed, steps=steps)


def test_settings_refuse_a_batch_without_a_baseline():
    with pytest.raises(ValueError, match="baseline"):
        opt.PGSettings(beta=1, batch=1)


# --- DPO ---------------------------------------------------------------------------------


def test_dpo_gradient_matches_finite_differences():
    chosen, rejected = picks([1, 0, 1, 1, 0, 0])
    d = chosen - rejected
    u = np.array([0.5, -1.0, 0.3, 0.8, -0.2, 0.1])
    for lam in (None, 0.1):
        grad = opt.dpo_gradient(u, d, lam)
        h = 1e-6
        numeric = [
            (opt.dpo_loss(u + h * e, d, lam) - opt.dpo_loss(u - h * e, d, lam)) / (2 * h)
            for e in np.eye(u.size)
        ]
        np.testing.assert_allclose(grad, numeric, atol=1e-7)


def test_dpo_margin_is_beta_log_ratio_difference():
    """The recorded margin is DPO's beta log(pi/pi_ref)(c) - beta log(pi/pi_ref)(l),
    computed from the recorded log-probabilities."""
    chosen, rejected = picks([1, 1, 0, 0, 1, 0])
    run = opt.dpo_run(chosen, rejected, opt.DPOSettings(beta=0.5), steps=7)
    step = run.final
    from_logps = 0.5 * ((step.logp_chosen - run.logp_ref) - (step.logp_rejected - run.logp_ref))
    np.testing.assert_allclose(step.margins, from_logps, atol=1e-12)


def test_dpo_starts_at_the_reference_with_loss_log_2():
    chosen, rejected = picks([0, 0, 0, 0, 0, 0])
    first = opt.dpo_run(chosen, rejected, opt.DPOSettings(), steps=0).final
    assert first.loss == pytest.approx(math.log(2))
    np.testing.assert_allclose(first.logp_chosen, math.log(opt.DPO_REF_SHARE))


@pytest.mark.parametrize("pattern", list(itertools.product([0, 1], repeat=6))[::9])
@pytest.mark.parametrize("lam", [None, 0.1])
def test_dpo_loss_decreases_every_step(pattern, lam):
    chosen, rejected = picks(pattern)
    run = opt.dpo_run(chosen, rejected, opt.DPOSettings(lam=lam), steps=200)
    d = chosen - rejected
    totals = [opt.dpo_loss(s.weights, d, lam) for s in run.steps]
    assert all(b <= a + 1e-12 for a, b in zip(totals, totals[1:], strict=False))
    assert run.final.loss < run.steps[0].loss


@pytest.mark.parametrize("pattern", list(itertools.product([0, 1], repeat=6)))
def test_dpo_fixed_point_is_the_learners_bradley_terry_fit(pattern):
    """With the reward model's prior, DPO's implicit reward weights converge to the
    Bradley–Terry weights scikit-learn fits on the same picks (to 1e-4), for every one of
    the 64 ways to pick the shipped pairs."""
    chosen, rejected = picks(pattern)
    run = opt.dpo_run(chosen, rejected, opt.DPOSettings(beta=0.1, lam=0.1), steps=600)
    closed = opt.dpo_fixed_point(chosen, rejected, TRAITS, 0.1)
    np.testing.assert_allclose(run.final.weights, closed, atol=1e-4)
    # ... and the gradient there is zero.
    np.testing.assert_allclose(opt.dpo_gradient(closed, chosen - rejected, 0.1), 0, atol=1e-4)


def test_without_a_prior_dpo_margins_grow_without_end():
    chosen, rejected = picks([1, 0, 1, 0, 1, 0])
    run = opt.dpo_run(chosen, rejected, opt.DPOSettings(lam=None), steps=1000)
    norms = [float(np.linalg.norm(run.steps[s].weights)) for s in (100, 500, 1000)]
    assert norms[0] < norms[1] < norms[2]
    assert run.final.loss < 0.05


def test_beta_changes_how_far_the_policy_moves_not_the_implicit_reward():
    chosen, rejected = picks([1, 1, 1, 0, 0, 0])
    near = opt.dpo_run(chosen, rejected, opt.DPOSettings(beta=1.0), steps=600).final
    far = opt.dpo_run(chosen, rejected, opt.DPOSettings(beta=0.1), steps=600).final
    np.testing.assert_allclose(near.weights, far.weights, atol=1e-6)
    move_near = np.abs(near.logp_chosen - math.log(opt.DPO_REF_SHARE)).max()
    move_far = np.abs(far.logp_chosen - math.log(opt.DPO_REF_SHARE)).max()
    assert move_far > move_near + 0.3  # log(1/0.25) = 1.39 is as far as it can go


def test_likelihood_displacement_chosen_falls_while_the_margin_grows():
    """Picking every second response of the shipped pairs: every chosen response ends less
    likely than under the reference although every margin is positive; the mass goes to
    the rest of what the model could write (Razin et al. 2024)."""
    chosen, rejected = picks([0, 0, 0, 0, 0, 0])
    run = opt.dpo_run(chosen, rejected, opt.DPOSettings(beta=0.1), steps=300)
    assert all(m > 0 for m in run.final.margins)
    assert all(run.displaced)
    assert all(step is not None for step in run.first_fall())
    assert all(run.final.logp_rejected < run.final.logp_chosen)
    # Another pattern keeps some chosen responses above the reference.
    other = opt.dpo_run(*picks([0, 0, 0, 1, 1, 1]), opt.DPOSettings(beta=0.1), steps=300)
    assert not all(other.displaced)


def test_first_order_displacement_condition():
    """Near-identical responses where the rejected one has a little more of everything:
    d . c < 0, so the pick's own gradient pushes its chosen response down; a clearly
    different pair pushes it up."""
    alike_c, alike_l = np.array([[0.6, 0.5]]), np.array([[0.7, 0.6]])
    apart_c, apart_l = np.array([[0.9, 0.1]]), np.array([[0.1, 0.2]])
    v0 = np.zeros(2)
    assert opt.displacement_first_order(v0, alike_c, alike_l, 0.25)[0] < 0
    assert opt.displacement_first_order(v0, apart_c, apart_l, 0.25)[0] > 0
    run = opt.dpo_run(alike_c, alike_l, opt.DPOSettings(beta=0.1, lam=None), steps=50)
    assert run.displaced == [True]
    assert run.final.margins[0] > 0
