"""The reward profile's prior control and what it states, and the policy page's figures:
the learner's own reward spread and best-of-n's expected reward under pi_ref."""

from __future__ import annotations

import math

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courseware import content as course_content
from courseware.models import SectionProgress
from labeling import catalog, fits, profile, reward
from labeling.models import Response

from .conftest import url

HX = {"HX-Request": "true"}


def stored_fit(user):
    return fits.learner_fit(user=user, figures="profile").fit


# -------------------------------------------------------------------------- the prior


@pytest.mark.django_db
def test_the_profile_says_what_the_prior_is_and_offers_every_step(student_client, finished_session):
    text = student_client.get(url("profile")).text
    assert "L2 penalty of strength λ" in text and "Gaussian prior" in text
    assert "λ = 0.1" in text and "(default)" in text
    for step in reward.LAMBDA_STEPS:
        checked = " checked" if step == reward.DEFAULT_LAMBDA else ""
        assert f'type="radio" name="lam" value="{step:g}"{checked}>' in text
    # The old text blamed the learner for what the prior did.
    assert "stays expensive" not in text


@pytest.mark.django_db
def test_at_the_default_prior_an_all_left_learner_gets_every_pick_back(
    student_client, finished_session
):
    """finished_session picked the left response six times: a consistent labeler."""
    text = student_client.get(url("profile")).text
    assert "your model gives <strong>6 of your 6 picks</strong> more than an even chance" in text


@pytest.mark.django_db
@pytest.mark.parametrize("lam", reward.LAMBDA_STEPS)
def test_each_prior_step_shows_the_weights_fitted_with_it(student_client, finished_session, lam):
    fit = stored_fit(finished_session.user)
    expected = fits.model_at(fit, lam).weights
    page = student_client.get(url("profile") + f"?lam={lam:g}")
    assert page.status_code == 200
    shown = page.context["profile"]
    assert shown.lam == lam
    assert np.allclose(shown.model.weights, expected)
    assert f"Your weights at λ = {lam:g}" in page.text
    assert f"The prior's standard deviation is {1 / math.sqrt(lam):.1f}".lower() in (
        page.text.lower()
    )


@pytest.mark.django_db
def test_a_stronger_prior_shrinks_the_weights_and_the_picks_towards_a_coin_flip(
    student_client, finished_session
):
    weak = student_client.get(url("profile") + "?lam=0.01").context["profile"]
    strong = student_client.get(url("profile") + "?lam=3").context["profile"]
    assert np.abs(strong.model.weights).max() < np.abs(weak.model.weights).max()
    assert max(abs(r.probability - 0.5) for r in strong.rows) < min(
        abs(r.probability - 0.5) for r in weak.rows
    )


@pytest.mark.django_db
def test_moving_the_prior_with_htmx_swaps_only_the_figures_it_changes(
    student_client, finished_session
):
    response = student_client.get(url("profile") + "?lam=1", headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="profile-fit"')
    assert "<html" not in response.text and 'name="lam"' not in response.text
    assert "Your weights at λ = 1" in response.text
    assert response["Vary"] and "HX-Request" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["0.5", "abc", "-1", "1e9", "nan", "0.1000000000001x"])
def test_a_prior_strength_not_offered_is_a_400_and_writes_nothing(
    student_client, student, finished_session, raw
):
    before = list(SectionProgress.objects.filter(user=student).values_list("pk", "done_at"))
    with CaptureQueriesContext(connection) as queries:
        response = student_client.get(url("profile"), {"lam": raw})
    assert response.status_code == 400
    assert "not one of the steps offered" in response.text
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert list(SectionProgress.objects.filter(user=student).values_list("pk", "done_at")) == before
    htmx = student_client.get(url("profile"), {"lam": raw}, headers=HX)
    assert htmx.status_code == 400 and htmx["Content-Type"].startswith("text/plain")


def test_prior_strength_parses_only_the_offered_steps():
    assert profile.prior_strength(None) == reward.DEFAULT_LAMBDA
    assert profile.prior_strength("") == reward.DEFAULT_LAMBDA
    assert profile.prior_strength("0.30") == 0.3
    for step in reward.LAMBDA_STEPS:
        assert profile.prior_strength(f"{step:g}") == step
    for raw in ("0.2", "inf", "x", "1" * 11):
        with pytest.raises(ValueError):
            profile.prior_strength(raw)


# ----------------------------------------------------------------- what the pairs can tell


@pytest.mark.django_db
def test_the_profile_reports_the_shipped_pairs_condition_number(student_client, finished_session):
    view = student_client.get(url("profile")).context["profile"]
    space = catalog.trait_space()
    differences = np.array(
        [
            space.vector(p.responses["a"].traits) - space.vector(p.responses["b"].traits)
            for p in catalog.pairs().values()
            if p.pair.is_active
        ]
    )
    check = reward.design_check(differences, space.slugs)
    assert view.design.condition_number == pytest.approx(check.condition_number)
    assert check.condition_number < reward.DEFAULT_MAX_CONDITION
    text = student_client.get(url("profile")).text
    assert "can tell every trait apart" in text
    assert f"condition number {check.condition_number:.1f}" in text


@pytest.mark.django_db
def test_the_profile_names_traits_the_pairs_cannot_tell_apart(student_client, finished_session):
    """An admin edit that makes warmth follow formality in every response: the picks can
    no longer say which of the two the learner liked, and the page must say so."""
    for response in Response.objects.all():
        response.traits = {**response.traits, "warm": response.traits.get("formal", 0.0)}
        response.save(update_fields=["traits"])
    course_content.bump()
    text = student_client.get(url("profile")).text
    assert "Your pairs cannot tell Formal from Warm apart" in text
    assert "can tell every trait apart" not in text


# ------------------------------------------------------------------------- best-of-n


@pytest.mark.django_db
def test_the_profile_shows_best_of_n_under_the_illustrative_reference(
    student_client, finished_session
):
    page = student_client.get(url("profile") + "?lam=0.3")
    view = page.context["profile"]
    model = fits.model_at(stored_fit(finished_session.user), 0.3)
    space = catalog.trait_space()
    for choice in view.heldout:
        rewards = [model.reward(space.vector(c.traits)) for c in choice.candidates]
        pi_ref = np.array([c.ref_prob for c in choice.candidates])
        pi_ref = pi_ref / pi_ref.sum()
        assert [n for n, _ in choice.best_of_n] == [1, 2, 4, 8]
        assert choice.best_of_n[0][1] == pytest.approx(float(pi_ref @ rewards), abs=1e-5)
        values = [v for _, v in choice.best_of_n]
        assert values == sorted(values) and values[-1] <= max(rewards) + 1e-9
    assert "argmax over the listed candidates" in page.text
    assert "illustrative" in page.text
    assert "n = 8" in page.text and "Top of the list (n → ∞)" in page.text


# ---------------------------------------------------------------------------- policy


@pytest.mark.django_db
@pytest.mark.parametrize("prompt", ["key-error", "wasp-nest"])
def test_the_policy_page_shows_the_learners_own_reward_spread(
    student_client, finished_session, prompt
):
    model = finished_session and fits.learner_fit(user=finished_session.user).model
    heldout = next(p for p in catalog.heldout_prompts() if p.slug == prompt)
    space = catalog.trait_space()
    rewards = [model.reward(space.vector(c.traits)) for c in heldout.candidate_list]
    page = student_client.get(url("policy") + f"?prompt={prompt}&beta=1")
    text = page.text
    assert "only a few units wide" not in text
    assert f"a spread of <strong>{max(rewards) - min(rewards):.2f}</strong>" in text
    assert f"from {min(rewards):.2f} to {max(rewards):.2f}" in text
    view = page.context["policy"]
    assert view.spread == pytest.approx(max(rewards) - min(rewards))
    assert view.odds_factor == pytest.approx(math.exp(view.spread / 0.02))


@pytest.mark.django_db
def test_the_policy_page_shows_best_of_n_and_labels_pi_ref_illustrative(
    student_client, finished_session
):
    page = student_client.get(url("policy") + "?prompt=key-error")
    view = page.context["policy"]
    rewards = [bar.reward for bar in view.bars]
    pi_ref = [bar.pi_ref for bar in view.bars]
    assert view.best_of_n[0] == (1, pytest.approx(view.reference_reward, abs=1e-5))
    assert view.best_of_n[1][1] == pytest.approx(
        reward.best_of_n_expected_reward(rewards, pi_ref, 2)
    )
    text = page.text
    assert "π<sub>ref</sub> (illustrative)" in text
    assert "reference probabilities π_ref are <strong>illustrative</strong>" in text
    assert "n = 1" in text and "n = 8" in text
    assert "gold” reward model" in text


@pytest.mark.django_db
def test_the_policy_page_without_a_profile_has_zero_spread(student_client, content):
    view = student_client.get(url("policy")).context["policy"]
    assert view.spread == 0.0
    assert all(value == pytest.approx(0.0) for _, value in view.best_of_n)
