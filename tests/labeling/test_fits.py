"""A finished session's reward model is fitted once, stored, and read back; content edits
in admin show on the next request and re-derive the fits that depend on them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labeling import catalog, fits, reward
from labeling.models import PreferencePair, RewardFit, Trait

from .conftest import url


def fresh_fit(session, lam: float = reward.DEFAULT_LAMBDA) -> np.ndarray:
    """The fit computed from scratch with scikit-learn, as the page did before fits
    were stored."""
    space = catalog.trait_space()
    comparisons = []
    for pick in session.picks.select_related("pair"):
        responses = {r.key: r for r in pick.pair.responses.all()}
        other = "b" if pick.chosen == "a" else "a"
        comparisons.append(
            reward.Comparison(
                chosen=space.vector(responses[pick.chosen].traits),
                rejected=space.vector(responses[other].traits),
            )
        )
    return reward.fit_reward_model(comparisons, space.slugs, lam=lam).weights


def stored_weights(fit: RewardFit, lam: float = reward.DEFAULT_LAMBDA) -> list[float]:
    return fit.weights[reward.LAMBDA_STEPS.index(lam)]


@pytest.mark.django_db
def test_finishing_a_session_stores_a_fit_equal_to_a_fresh_fit(finished_session):
    stored = RewardFit.objects.get(session=finished_session)
    assert stored.traits == catalog.trait_space().slugs
    for lam in reward.LAMBDA_STEPS:
        assert np.allclose(stored_weights(stored, lam), fresh_fit(finished_session, lam), atol=1e-6)
    assert [item["position"] for item in stored.items] == list(range(1, 7))
    assert all(item["chosen"] in ("a", "b") for item in stored.items)


@pytest.mark.django_db
def test_pages_read_the_stored_fit_without_refitting(student_client, finished_session, monkeypatch):
    student_client.get(url("profile"))

    def refit(*args, **kwargs):
        raise AssertionError("a stored, current fit was derived again")

    monkeypatch.setattr(fits, "fit_derive", refit)
    for name in ("profile", "policy", "rlaif"):
        assert student_client.get(url(name)).status_code == 200


@pytest.mark.django_db
def test_a_session_finished_without_a_fit_gets_one_on_first_read_and_only_then(
    student_client, finished_session
):
    RewardFit.objects.filter(session=finished_session).delete()
    student_client.get(url("policy"))
    assert np.allclose(
        stored_weights(RewardFit.objects.get(session=finished_session)),
        fresh_fit(finished_session),
        atol=1e-6,
    )
    with CaptureQueriesContext(connection) as again:
        student_client.get(url("policy"))
    assert not [q for q in again.captured_queries if "labeling_rewardfit" in q["sql"]
                and q["sql"].startswith("INSERT")]  # fmt: skip


def pair_change_data(pair: PreferencePair, traits: dict[str, dict]) -> dict:
    """The admin change form of a pair, its two responses edited to `traits`."""
    data = {
        "slug": pair.slug,
        "order": pair.order,
        "prompt": pair.prompt,
        "tests": pair.tests,
        "is_active": "on" if pair.is_active else "",
        "responses-TOTAL_FORMS": "2",
        "responses-INITIAL_FORMS": "2",
        "responses-MIN_NUM_FORMS": "2",
        "responses-MAX_NUM_FORMS": "2",
    }
    for i, response in enumerate(pair.responses.order_by("key")):
        data |= {
            f"responses-{i}-id": response.pk,
            f"responses-{i}-pair": pair.pk,
            f"responses-{i}-key": response.key,
            f"responses-{i}-text": response.text,
            f"responses-{i}-traits": json.dumps(traits[response.key]),
        }
    return data


@pytest.mark.django_db
def test_an_admin_edit_of_a_pair_rederives_the_fits_that_depend_on_it(
    student_client, admin_user, finished_session
):
    student_client.get(url("profile"))  # the stored fit is current, content in memory
    before = RewardFit.objects.get(session=finished_session)
    pair = PreferencePair.objects.get(pk=before.items[0]["pair"])
    flipped = {
        r.key: {slug: 1.0 - float(v) for slug, v in r.traits.items()} for r in pair.responses.all()
    }
    client = Client()  # the admin in a browser of their own
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:labeling_preferencepair_change", args=[pair.pk]),
        pair_change_data(pair, flipped),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert student_client.get(url("profile")).status_code == 200
    after = RewardFit.objects.get(session=finished_session)
    assert after.inputs_key != before.inputs_key
    assert not np.allclose(stored_weights(after), stored_weights(before))
    assert np.allclose(stored_weights(after), fresh_fit(finished_session), atol=1e-6)


@pytest.mark.django_db
def test_an_admin_edit_of_a_trait_shows_on_the_next_request(
    student_client, admin_user, finished_session
):
    assert "Brevity of a kind" not in student_client.get(url("profile")).text
    trait = Trait.objects.get(slug="concise")
    client = Client()  # the admin in a browser of their own
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:labeling_trait_change", args=[trait.pk]),
        {
            "slug": trait.slug,
            "order": trait.order,
            "name": "Brevity of a kind",
            "description": trait.description,
            "phrase": trait.phrase,
        },
    )
    assert response.status_code == 302
    assert "Brevity of a kind" in student_client.get(url("profile")).text
