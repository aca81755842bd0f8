"""The "step the optimisers" page: GET-only state in the URL, htmx fragments, bad input,
the learner who has not labeled yet, and query counts."""

from __future__ import annotations

import random
import re

import pytest
from django.urls import reverse

from courseware.models import SectionProgress
from labeling import fits, services
from labeling.models import LabelingSession, ScreenSide
from labs import optimisers as opt

KW = {"course": "language-models", "module": "post-training"}
HX = {"HX-Request": "true", "HX-Target": "pg-lab"}
HX_DPO = {"HX-Request": "true", "HX-Target": "dpo-lab"}


def url(query: str = "") -> str:
    return reverse("labs:optimisers", kwargs=KW) + query


@pytest.fixture
def finished(content, student) -> LabelingSession:
    session, _ = services.session_start(user=student, rng=random.Random(1))
    for shown in session.shown.all():
        services.pick_record(session=session, pair=shown.pair_id, side=ScreenSide.RIGHT)
    return services.session_finish(session=session)


@pytest.mark.django_db
def test_a_learner_who_has_not_labeled_is_sent_to_label_first(student_client, content):
    page = student_client.get(url())
    assert page.status_code == 200
    assert "Label the six pairs first" in page.text
    assert reverse("labeling:session", kwargs=KW) in page.text
    assert 'id="pg-lab"' not in page.text


@pytest.mark.django_db
def test_step_zero_shows_the_reference_policy_and_the_optimum(student_client, finished):
    page = student_client.get(url())
    assert page.status_code == 200
    assert 'id="pg-lab"' in page.text and 'id="dpo-lab"' in page.text
    assert "Step <strong>0</strong>" in page.text
    # Every step link is a plain link carrying the whole state.
    links = re.findall(r'id="pg-step-(\d+)" class="button" href="([^"]+)"', page.text)
    assert [size for size, _ in links] == ["1", "10", "100"]
    assert all("steps=" in href and "dpo_steps=0" in href for _, href in links)
    assert "<svg" in page.text and "<table" in page.text
    assert "arXiv 1707.06347" in page.text  # PPO
    assert "arXiv 2410.08847" in page.text  # likelihood displacement
    assert "arXiv 2305.18290" in page.text  # DPO


@pytest.mark.django_db
def test_stepping_shows_the_same_run_the_core_computes(student_client, finished, student):
    page = student_client.get(url("?steps=100&seed=3&beta=0.5&batch=8&lr=1&clip=0"))
    assert page.status_code == 200
    learner = fits.learner_fit(user=student, figures="policy")
    prompt_pk = next(iter(learner.fit.policy))
    table = learner.fit.policy[prompt_pk]
    run = opt.policy_gradient_run(
        table["pi_ref"], table["rewards"], opt.PGSettings(beta=0.5, batch=8, lr=1.0), seed=3,
        steps=100,
    )  # fmt: skip
    from labs.templatetags.step_tags import nats

    assert f"<strong>{nats(run.final.kl_to_optimum)}</strong> nats from" in page.text
    assert run.final.kl_to_optimum < run.steps[0].kl_to_optimum


@pytest.mark.django_db
def test_the_same_url_gives_the_same_page(student_client, finished):
    """Compared as fragments: a full page carries a fresh CSRF mask each time."""
    query = "?steps=37&seed=12&clip=1&dpo_steps=25&dpo_beta=0.5"
    first = student_client.get(url(query), headers=HX).text
    again = student_client.get(url(query), headers=HX).text
    assert first == again
    other_seed = student_client.get(url(query.replace("seed=12", "seed=13")), headers=HX).text
    assert other_seed != first


@pytest.mark.django_db
def test_htmx_swaps_the_stepped_lab_and_carries_the_other_out_of_band(student_client, finished):
    response = student_client.get(url("?steps=10&dpo_steps=5"), headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="pg-lab"')
    assert '<div id="dpo-lab" class="lab-region" hx-swap-oob="true"' in response.text
    assert "<html" not in response.text
    assert response["Vary"].count("HX-Request") == 1
    dpo = student_client.get(url("?steps=10&dpo_steps=5"), headers=HX_DPO)
    assert dpo.text.lstrip().startswith('<div id="dpo-lab"')
    assert '<div id="pg-lab" class="lab-region" hx-swap-oob="true"' in dpo.text


@pytest.mark.django_db
def test_dpo_reaches_the_learners_bradley_terry_weights(student_client, finished, student):
    page = student_client.get(url("?dpo_steps=1000"))
    assert page.status_code == 200
    gap = re.search(r"within (\d+\.\d+) of your reward model", page.text)
    assert gap and float(gap.group(1)) < 0.001
    assert "less likely than under the reference" in page.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?seed=-1", "seed must be a whole number"),
        ("?seed=1000000", "seed must be a whole number"),
        ("?seed=%D9%A3", "seed must be a whole number"),  # Arabic-Indic three
        ("?steps=1001", "step count must be a whole number from 0 to 1000"),
        ("?steps=99999999999999999999", "step count must be a whole number"),
        ("?steps=%EF%BC%95", "step count must be a whole number"),  # fullwidth five
        ("?dpo_steps=5000", "DPO step count"),
        ("?beta=0.3", "β must be one of"),
        ("?batch=1", "batch size k must be one of"),
        ("?clip=yes", "PPO clip switch"),
        ("?prompt=nope", "no held-out prompt called"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    student_client, finished, student, content, query, message
):
    response = student_client.get(url(query))
    assert response.status_code == 400
    assert message in response.text
    section = content.sections.get(url_name="labs:optimisers")
    assert not SectionProgress.objects.filter(user=student, section=section).exists()
    fragment = student_client.get(url(query), headers=HX)
    assert fragment.status_code == 400
    assert fragment["Content-Type"].startswith("text/plain")
    assert message in fragment.text


@pytest.mark.django_db
def test_the_page_is_get_only(student_client, finished):
    assert student_client.post(url()).status_code == 405


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, content):
    response = client.get(url())
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.django_db
def test_query_count_is_the_same_at_step_0_and_step_1000(
    student_client, finished, warm_content, django_assert_num_queries
):
    student_client.get(url())  # the first view records the visit
    with django_assert_num_queries(4) as small:
        student_client.get(url())
    with django_assert_num_queries(len(small.captured_queries)):
        student_client.get(url("?steps=1000&clip=1&dpo_steps=1000"))
    with django_assert_num_queries(len(small.captured_queries) - 1):  # no outline
        student_client.get(url("?steps=10"), headers=HX)


@pytest.mark.django_db
def test_a_repeated_view_writes_nothing(student_client, finished, django_assert_num_queries):
    student_client.get(url())
    with django_assert_num_queries(4) as queries:
        student_client.get(url("?steps=5"))
    assert not any(
        q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        for q in queries.captured_queries
    )
