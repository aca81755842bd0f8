"""The shipped content: loads idempotently, never overwrites, and is designed to separate traits."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from labeling import loader, reward
from labeling.models import (
    Candidate,
    HeldOutPrompt,
    PreferencePair,
    Principle,
    Response,
    Trait,
    validate_candidate_probabilities,
    validate_trait_values,
)

CONTENT = loader.CONTENT
TRAITS = [t["slug"] for t in json.loads((CONTENT / "traits.json").read_text())]
PAIRS = json.loads((CONTENT / "pairs.json").read_text())


def vec(values: dict) -> np.ndarray:
    return np.array([values[t] for t in TRAITS], dtype=float)


def test_required_traits_are_shipped():
    assert {"concise", "hedges", "refuses", "formal", "clarifies", "warm"} <= set(TRAITS)


def test_six_pairs_each_differing_mainly_in_one_or_two_traits():
    assert len(PAIRS) == 6
    for pair in PAIRS:
        diff = np.abs(vec(pair["responses"]["a"]["traits"]) - vec(pair["responses"]["b"]["traits"]))
        big = np.flatnonzero(diff >= 0.5)
        assert 1 <= len(big) <= 2, pair["slug"]
        assert np.all(np.delete(diff, big) <= 0.2), pair["slug"]


def test_every_trait_is_tested_and_concise_twice_with_the_order_swapped():
    mains: dict[str, list[str]] = {}
    for pair in PAIRS:
        a, b = vec(pair["responses"]["a"]["traits"]), vec(pair["responses"]["b"]["traits"])
        for j in np.flatnonzero(np.abs(a - b) >= 0.5):
            mains.setdefault(TRAITS[j], []).append("a" if a[j] > b[j] else "b")
    assert set(mains) == set(TRAITS)
    assert sorted(mains["concise"]) == ["a", "b"]


def differences() -> np.ndarray:
    return np.stack(
        [vec(p["responses"]["a"]["traits"]) - vec(p["responses"]["b"]["traits"]) for p in PAIRS]
    )


def test_the_six_pairs_span_every_trait_direction():
    """Full rank: no trait is invisible to the six picks and no two are confounded."""
    assert np.linalg.matrix_rank(differences()) == len(TRAITS)


def single_trait_picks(j: int, sign: int) -> list[reward.Comparison]:
    """A learner who wants more (sign 1) or less (-1) of trait j and nothing else:
    on each pair they take the response with more (less) of it, "a" on an exact tie."""
    picks = []
    for pair in PAIRS:
        a, b = vec(pair["responses"]["a"]["traits"]), vec(pair["responses"]["b"]["traits"])
        first = sign * (a[j] - b[j]) >= 0
        picks.append(reward.Comparison(*((a, b) if first else (b, a))))
    return picks


def test_single_trait_learners_make_six_different_pick_patterns():
    patterns = {
        tuple(
            bool(np.array_equal(c.chosen, vec(p["responses"]["a"]["traits"])))
            for c, p in zip(single_trait_picks(j, 1), PAIRS, strict=True)
        )
        for j in range(len(TRAITS))
    }
    assert len(patterns) == len(TRAITS)


@pytest.mark.parametrize("trait", TRAITS)
@pytest.mark.parametrize("sign", [1, -1])
def test_six_picks_recover_the_direction_of_a_single_trait_preference(trait, sign):
    """Six binary picks cannot pin every weight (each pick moves all the traits its pair
    differs in), but they must get the learner's own trait the right way round, and
    the tally sentence must say so."""
    j = TRAITS.index(trait)
    picks = single_trait_picks(j, sign)
    model = reward.fit_reward_model(picks, TRAITS)
    assert np.sign(model.weights[j]) == sign, model.weights_by_trait()
    tally = reward.trait_tallies(picks, TRAITS, phrases={t: t for t in TRAITS})[j]
    assert tally.differing >= 1
    assert tally.chose_more == (tally.differing if sign == 1 else 0)


def test_heldout_prompts_have_4_to_6_candidates_summing_to_one():
    heldout = json.loads((CONTENT / "heldout.json").read_text())
    assert len(heldout) >= 1
    for prompt in heldout:
        validate_candidate_probabilities([c["ref_prob"] for c in prompt["candidates"]])


def test_constitution_has_at_least_six_principles_each_weighting_traits():
    principles = json.loads((CONTENT / "constitution.json").read_text())
    assert len(principles) >= 6
    for p in principles:
        assert p["weights"] and set(p["weights"]) <= set(TRAITS)


@pytest.mark.django_db
def test_load_content_twice_creates_nothing_new(content):
    counts = [
        m.objects.count()
        for m in (Trait, PreferencePair, Response, HeldOutPrompt, Candidate, Principle)
    ]
    loader.load_content(stdout=io.StringIO())
    again = [
        m.objects.count()
        for m in (Trait, PreferencePair, Response, HeldOutPrompt, Candidate, Principle)
    ]
    assert again == counts
    assert counts == [6, 6, 12, 3, 15, 8]


@pytest.mark.django_db
def test_load_content_never_overwrites_an_admin_edit(content):
    pair = PreferencePair.objects.get(slug="boil-egg")
    pair.prompt = "Edited by an admin"
    pair.save()
    Principle.objects.filter(slug="kind").update(name="Be gentle")
    loader.load_content(stdout=io.StringIO())
    assert PreferencePair.objects.get(slug="boil-egg").prompt == "Edited by an admin"
    assert Principle.objects.get(slug="kind").name == "Be gentle"


@pytest.mark.django_db
def test_load_content_recreates_a_deleted_row(content):
    Principle.objects.filter(slug="kind").delete()
    loader.load_content(stdout=io.StringIO())
    assert Principle.objects.filter(slug="kind").exists()


@pytest.mark.django_db
def test_loader_rejects_a_heldout_prompt_that_does_not_sum_to_one(content, tmp_path, monkeypatch):
    for name in ("traits.json", "pairs.json", "constitution.json"):
        (tmp_path / name).write_text((CONTENT / name).read_text())
    heldout = json.loads((CONTENT / "heldout.json").read_text())
    heldout[0]["slug"] = "broken"
    heldout[0]["candidates"][0]["ref_prob"] = 0.9
    (tmp_path / "heldout.json").write_text(json.dumps(heldout))
    monkeypatch.setattr(loader, "CONTENT", tmp_path)
    with pytest.raises(ValidationError, match="sum to 1"):
        loader.load_content(stdout=io.StringIO())
    assert not HeldOutPrompt.objects.filter(slug="broken").exists()


@pytest.mark.parametrize(
    "probabilities, message",
    [
        ([0.5, 0.5], "4 to 6"),
        ([0.2] * 7, "4 to 6"),
        ([0.3, 0.3, 0.3, 0.3], "sum to 1"),
        ([0.5, 0.5, 0.0, 0.0], "above 0"),
    ],
)
def test_candidate_probabilities_are_validated(probabilities, message):
    with pytest.raises(ValidationError, match=message):
        validate_candidate_probabilities(probabilities)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"concise": 1.5}, "from 0 to 1"),
        ({"shouty": 0.5}, "Unknown trait"),
        ({"concise": "high"}, "from 0 to 1"),
        (["concise"], "object"),
    ],
)
def test_trait_values_are_validated(values, message):
    with pytest.raises(ValidationError, match=message):
        validate_trait_values(values, trait_slugs=TRAITS)


@pytest.mark.django_db
def test_heldout_prompt_clean_checks_its_saved_candidates(content):
    prompt = HeldOutPrompt.objects.get(slug="key-error")
    prompt.full_clean()
    Candidate.objects.filter(prompt=prompt, order=1).update(ref_prob=0.9)
    with pytest.raises(ValidationError, match="sum to 1"):
        prompt.full_clean()


@pytest.mark.django_db
def test_response_clean_rejects_unknown_traits(content):
    response = Response.objects.first()
    response.traits = {**response.traits, "sarcastic": 0.4}
    with pytest.raises(ValidationError, match="Unknown trait"):
        response.full_clean()
