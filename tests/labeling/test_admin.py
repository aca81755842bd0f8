"""Admins edit traits, pairs, held-out prompts and the constitution in Django admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from labeling.models import Candidate, HeldOutPrompt, PreferencePair, Principle, Trait


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", [Trait, PreferencePair, HeldOutPrompt, Principle], ids=lambda m: m.__name__
)
def test_admin_lists_and_opens_labeling_content(client, admin_user, content, model):
    client.force_login(admin_user)
    meta = model._meta
    listing = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert listing.status_code == 200
    obj = model.objects.first()
    change = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200


def _candidate_post(prompt: HeldOutPrompt, probabilities: list[float]) -> dict:
    candidates = list(prompt.candidates.order_by("order"))
    data = {
        "slug": prompt.slug,
        "order": prompt.order,
        "prompt": prompt.prompt,
        "note": prompt.note,
        "candidates-TOTAL_FORMS": len(candidates),
        "candidates-INITIAL_FORMS": len(candidates),
        "candidates-MIN_NUM_FORMS": 0,
        "candidates-MAX_NUM_FORMS": 1000,
    }
    for i, (candidate, p) in enumerate(zip(candidates, probabilities, strict=True)):
        data.update(
            {
                f"candidates-{i}-id": candidate.pk,
                f"candidates-{i}-prompt": prompt.pk,
                f"candidates-{i}-order": candidate.order,
                f"candidates-{i}-label": candidate.label,
                f"candidates-{i}-text": candidate.text,
                f"candidates-{i}-traits": '{"concise": 0.5}',
                f"candidates-{i}-ref_prob": p,
            }
        )
    return data


@pytest.mark.django_db
def test_admin_refuses_candidates_that_do_not_sum_to_one(client, admin_user, content):
    client.force_login(admin_user)
    prompt = HeldOutPrompt.objects.get(slug="key-error")
    url = reverse("admin:labeling_heldoutprompt_change", args=[prompt.pk])
    response = client.post(url, _candidate_post(prompt, [0.5, 0.5, 0.5, 0.5, 0.5]))
    assert response.status_code == 200
    assert "must sum to 1" in response.text
    assert Candidate.objects.get(prompt=prompt, order=1).ref_prob == 0.40
    response = client.post(url, _candidate_post(prompt, [0.2, 0.2, 0.2, 0.2, 0.2]))
    assert response.status_code == 302
    assert Candidate.objects.get(prompt=prompt, order=1).ref_prob == 0.2


@pytest.mark.django_db
def test_admin_refuses_unknown_traits_on_a_principle(client, admin_user, content):
    client.force_login(admin_user)
    principle = Principle.objects.get(slug="kind")
    url = reverse("admin:labeling_principle_change", args=[principle.pk])
    data = {
        "slug": "kind",
        "order": principle.order,
        "name": principle.name,
        "text": principle.text,
        "weights": '{"sarcasm": 1}',
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Unknown trait" in response.text
    principle.refresh_from_db()
    assert principle.weights == {"warm": 1}
