"""Known-answer tests for the RLVR lab's pure core (no database)."""

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from labs import rlvr

CONTENT = Path(__file__).resolve().parents[2] / "labs" / "content" / "rlvr_tasks.json"


def shipped_tasks():
    return [
        rlvr.Task(
            slug=t["slug"],
            prompt=t["prompt"],
            kind=t["kind"],
            params=t["params"],
            answers=tuple(rlvr.Answer(a["label"], a["text"], a["ref_prob"]) for a in t["answers"]),
        )
        for t in json.loads(CONTENT.read_text())
    ]


# --- checkers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("85", Fraction(85)),
        ("70 + 15 = 85.", Fraction(85)),
        ("2,500 m", Fraction(2500)),
        ("2.5 × 1,000 = 2,500 metres", Fraction(2500)),
        ("0.0025 m", Fraction(25, 10000)),
        ("minus: -3", Fraction(-3)),
        ("no number here", None),
        ("٨٥", None),  # Arabic-Indic digits are not read as 85
    ],
)
def test_last_number(text, number):
    assert rlvr.last_number(text) == number


def test_checkers_known_answers():
    assert rlvr.check("arithmetic", {"a": 47, "op": "+", "b": 38}, "85") == 1
    assert rlvr.check("arithmetic", {"a": 47, "op": "+", "b": 38}, "75") == 0
    assert rlvr.check("arithmetic", {"a": 12, "op": "*", "b": 14}, "so 168") == 1
    assert rlvr.check("arithmetic", {"a": 9, "op": "-", "b": 12}, "-3") == 1
    assert rlvr.check("word_count", {"words": 3}, "one two three") == 1
    assert rlvr.check("word_count", {"words": 3}, "one two three four") == 0
    assert rlvr.check("unit_conversion", {"value": 2.5, "from": "km", "to": "m"}, "2500") == 1
    assert rlvr.check("unit_conversion", {"value": 3.5, "from": "h", "to": "min"}, "210") == 1
    assert rlvr.check("unit_conversion", {"value": 250, "from": "g", "to": "kg"}, "0.25 kg") == 1
    assert rlvr.check("unit_conversion", {"value": 250, "from": "g", "to": "kg"}, "0.2 kg") == 0


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("arithmetic", {"a": 1, "op": "/", "b": 2}),
        ("unit_conversion", {"value": 1, "from": "km", "to": "kg"}),
        ("word_count", {"words": 0}),
        ("poem", {}),
    ],
)
def test_unknown_or_impossible_tasks_are_refused(kind, params):
    with pytest.raises(ValueError):
        rlvr.check(kind, params, "1")


def test_shipped_tasks_mix_right_and_wrong_answers():
    """Every shipped task has a right and a wrong answer, and the arithmetic and unit
    tasks have a right answer with working (the long one the checker also accepts)."""
    for task in shipped_tasks():
        assert 0 < sum(task.scores) < len(task.scores), task.slug
        if task.kind != "word_count":
            longest = max(range(len(task.answers)), key=lambda i: len(task.answers[i].text))
            assert task.scores[longest] == 1, task.slug


# --- GRPO --------------------------------------------------------------------------------


def test_group_advantages_known_answer():
    # mean 0.5, population std 0.5
    np.testing.assert_allclose(rlvr.group_advantages([1, 0, 1, 0]), [1, -1, 1, -1])
    # mean 0.25, std sqrt(3)/4
    s = math.sqrt(3) / 4
    np.testing.assert_allclose(
        rlvr.group_advantages([1, 0, 0, 0]), [0.75 / s, -0.25 / s, -0.25 / s, -0.25 / s]
    )
    assert rlvr.group_advantages([1, 0, 0, 0]).sum() == pytest.approx(0)


@pytest.mark.parametrize("rewards", [[1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0]])
def test_a_group_that_all_scores_the_same_has_zero_advantage(rewards):
    np.testing.assert_array_equal(rlvr.group_advantages(rewards), 0)


def test_zero_advantage_groups_leave_the_policy_alone_without_kl():
    """A task whose answers are all wrong: every group scores 0, so GRPO never moves it."""
    hopeless = rlvr.Task(
        slug="hopeless",
        prompt="What is 2 + 2?",
        kind="arithmetic",
        params={"a": 2, "op": "+", "b": 2},
        answers=(rlvr.Answer("a", "5", 0.5), rlvr.Answer("b", "3", 0.5)),
    )
    run = rlvr.grpo_run([hopeless], rlvr.GRPOSettings(group=4, kl_weight=0.0), seed=1, steps=10)
    assert all(s.zero_advantage_groups == 1 for s in run.steps[1:])
    np.testing.assert_allclose(run.final.tasks[0].policy, [0.5, 0.5])


def test_kl_gradient_matches_finite_differences():
    ref = np.array([0.5, 0.3, 0.2])
    theta = np.array([0.3, -0.4, 1.1])
    grad = rlvr.kl_gradient(rlvr.softmax(theta), ref)
    h = 1e-6
    numeric = [
        (rlvr.kl(rlvr.softmax(theta + h * e), ref) - rlvr.kl(rlvr.softmax(theta - h * e), ref))
        / (2 * h)
        for e in np.eye(3)
    ]
    np.testing.assert_allclose(grad, numeric, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 7, 2024])
def test_accuracy_rises(seed):
    tasks = shipped_tasks()
    run = rlvr.grpo_run(tasks, rlvr.GRPOSettings(group=8, kl_weight=0.04), seed=seed, steps=60)
    start = run.steps[0].accuracy
    assert start == pytest.approx(np.mean([t.pi_ref @ t.correct for t in tasks]))
    assert run.steps[10].accuracy > start
    assert run.final.accuracy > 0.9
    assert run.final.accuracy > run.steps[10].accuracy


def test_a_stronger_kl_term_keeps_the_policy_nearer_the_reference():
    tasks = shipped_tasks()
    runs = {
        w: rlvr.grpo_run(tasks, rlvr.GRPOSettings(group=8, kl_weight=w), seed=3, steps=200)
        for w in (0.0, 0.2, 1.0)
    }
    kls = [runs[w].final.kl_to_ref for w in (0.0, 0.2, 1.0)]
    accuracies = [runs[w].final.accuracy for w in (0.0, 0.2, 1.0)]
    assert kls[0] > kls[1] > kls[2]
    assert accuracies[0] > accuracies[2]


def test_grpo_is_deterministic_for_a_seed():
    tasks = shipped_tasks()
    a = rlvr.grpo_run(tasks, rlvr.GRPOSettings(group=4), seed=11, steps=25)
    b = rlvr.grpo_run(tasks, rlvr.GRPOSettings(group=4), seed=11, steps=25)
    c = rlvr.grpo_run(tasks, rlvr.GRPOSettings(group=4), seed=12, steps=25)
    assert [t.answers for s in a.steps for t in s.tasks] == [
        t.answers for s in b.steps for t in s.tasks
    ]
    for x, y in zip(a.final.tasks, b.final.tasks, strict=True):
        np.testing.assert_array_equal(x.policy, y.policy)
    assert [t.answers for s in a.steps for t in s.tasks] != [
        t.answers for s in c.steps for t in s.tasks
    ]


def test_small_groups_waste_more_steps_on_a_hard_task():
    """12 x 14 starts with a 15% chance of a right answer: groups of 2 mostly score all
    wrong (0.85^2 = 72% of the time at the start), groups of 16 rarely (7%)."""
    hard = [t for t in shipped_tasks() if t.slug == "multiply-12-14"]
    small = rlvr.grpo_run(hard, rlvr.GRPOSettings(group=2, kl_weight=0.04), seed=5, steps=10)
    large = rlvr.grpo_run(hard, rlvr.GRPOSettings(group=16, kl_weight=0.04), seed=5, steps=10)
    wasted_small = sum(s.zero_advantage_groups for s in small.steps)
    wasted_large = sum(s.zero_advantage_groups for s in large.steps)
    assert wasted_small > wasted_large
    assert large.final.accuracy > small.final.accuracy


def test_grpo_refuses_bad_state():
    with pytest.raises(ValueError):
        rlvr.grpo_run(shipped_tasks(), rlvr.GRPOSettings(), seed=-1, steps=1)
    with pytest.raises(ValueError):
        rlvr.GRPOSettings(group=1)
    with pytest.raises(ValueError):
        rlvr.GRPOSettings(kl_weight=-0.1)


# --- rejection sampling --------------------------------------------------------------------


PI = np.array([0.4, 0.1, 0.2, 0.15, 0.15])
R = np.array([0.3, 1.6, -0.4, 0.9, -1.2])


def test_best_of_k_exact_known_answers():
    np.testing.assert_allclose(rlvr.best_of_k_exact(PI, R, 1), PI)
    exact = rlvr.best_of_k_exact(PI, R, 2)
    # Best candidate (reward 1.6): 1 - 0.9^2; worst (-1.2): 0.15^2.
    assert exact[1] == pytest.approx(1 - 0.9**2)
    assert exact[4] == pytest.approx(0.15**2)
    assert exact.sum() == pytest.approx(1)
    # Ties share their level in proportion to pi.
    tied = rlvr.best_of_k_exact([0.5, 0.25, 0.25], [1.0, 1.0, 0.0], 3)
    np.testing.assert_allclose(tied, [(1 - 0.25**3) * 2 / 3, (1 - 0.25**3) / 3, 0.25**3])


def test_best_of_k_kl_stays_within_log_k_bound():
    for k in (2, 4, 8, 16):
        exact = rlvr.best_of_k_exact(PI, R, k)
        assert rlvr.kl(exact, PI) <= math.log(k) - (k - 1) / k + 1e-12


def test_rejection_sampling_winners_approach_the_exact_distribution():
    rnd = rlvr.rejection_sampling(PI, R, k=4, seed=1, draws=20_000)
    np.testing.assert_allclose(rnd.winners, rnd.exact, atol=0.01)
    assert rnd.wins.sum() == 20_000


def test_sft_on_the_winners_moves_to_their_share_and_raises_the_reward():
    rnd = rlvr.rejection_sampling(PI, R, k=4, seed=2, sft_steps=2000)
    np.testing.assert_allclose(rnd.policy, rnd.winners, atol=0.01)
    short = rlvr.rejection_sampling(PI, R, k=4, seed=2)
    assert short.reward_after > short.reward_before
    assert short.kl_to_ref > 0
    one = rlvr.rejection_sampling(PI, R, k=1, seed=2, draws=20_000, sft_steps=0)
    np.testing.assert_allclose(one.policy, PI)


def test_rejection_sampling_is_deterministic():
    a = rlvr.rejection_sampling(PI, R, k=8, seed=5)
    b = rlvr.rejection_sampling(PI, R, k=8, seed=5)
    np.testing.assert_array_equal(a.wins, b.wins)
    with pytest.raises(ValueError):
        rlvr.rejection_sampling(PI, R, k=0, seed=5)


def test_the_runs_advantages_are_grpos_group_advantages():
    """The run computes advantages in one array for speed; every group's must be what
    group_advantages gives for its rewards."""
    run = rlvr.grpo_run(shipped_tasks(), rlvr.GRPOSettings(group=4), seed=8, steps=40)
    for s in range(40):
        for i in range(len(run.tasks)):
            np.testing.assert_allclose(
                run.advantages[s, i], rlvr.group_advantages(run.rewards[s, i]), atol=1e-12
            )
            answers = run.answers[s, i]
            np.testing.assert_array_equal(run.rewards[s, i], run.tasks[i].correct[answers])
