"""Every labeling page that shows a response or candidate answer says the answers were
written for the course, labels the reference probabilities illustrative, and cites the
sources of the ideas it teaches where they appear."""

from __future__ import annotations

import pytest
from django.urls import reverse

from labeling import catalog

from .conftest import url

WRITTEN = "Written for this course to show what a model at this stage tends to do"


def cites(text: str, *arxiv_ids: str) -> None:
    for arxiv in arxiv_ids:
        assert f"arXiv {arxiv}" in text, arxiv


@pytest.mark.django_db
def test_the_profile_labels_its_candidate_answers_and_cites_the_founding_papers(
    student_client, finished_session
):
    text = student_client.get(url("profile")).text
    some = catalog.heldout_prompts()[0].candidate_list
    assert any(c.text in text for c in some)
    assert WRITTEN in text
    assert "illustrative" in text
    assert "Bradley and Terry" in text and "Biometrika 39" in text
    cites(text, "1706.03741", "2009.01325", "2203.02155")


@pytest.mark.django_db
def test_the_policy_page_labels_candidates_and_pi_ref_and_cites_its_sources(
    student_client, finished_session
):
    text = student_client.get(url("policy")).text
    assert WRITTEN in text
    assert text.count("illustrative") >= 3  # the intro, the chart, the table
    cites(text, "2009.01325", "2203.02155", "2210.10760", "2305.18290", "2407.21783")
    assert "“gold” reward model" in text


@pytest.mark.django_db
def test_the_rlaif_page_labels_the_pairs_and_cites_bai_and_claudes_constitution(
    student_client, finished_session
):
    text = student_client.get(url("rlaif") + "?principle=brief").text
    assert WRITTEN in text
    cites(text, "2212.08073")
    assert "Claude's Constitution" in text or "Claude&#x27;s Constitution" in text
    assert "no person labels any output as harmful" in text


@pytest.mark.django_db
def test_the_class_page_labels_the_pairs_and_cites_bennett_and_instructgpt(
    instructor_client, classroom, content
):
    text = instructor_client.get(
        reverse("labeling:class-preferences", kwargs={"pk": classroom.pk})
    ).text
    assert WRITTEN in text
    assert "Bennett, Alpert and Goldstein" in text and "1954" in text
    cites(text, "2203.02155")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "page"),
    [
        ("policy-objective", "policy"),
        ("policy-betas", "policy"),
        ("policy-best-of-n", "policy"),
        ("rlaif-intro", "rlaif"),
        ("rlaif-after", "rlaif?principle=brief"),
        ("profile-prior", "profile"),
        ("profile-heldout", "profile"),
        ("profile-steps", "profile"),
    ],
)
def test_the_lesson_text_of_the_labeling_pages_is_what_an_admin_wrote(
    student_client, finished_session, key, page
):
    from courseware import content as course_content
    from courseware.models import TeachingText

    name, _, query = page.partition("?")
    assert (
        "An admin rewrote"
        not in student_client.get(url(name) + (f"?{query}" if query else "")).text
    )
    TeachingText.objects.filter(key=key).update(body="An admin rewrote this paragraph.")
    course_content.bump()
    after = student_client.get(url(name) + (f"?{query}" if query else "")).text
    assert "An admin rewrote this paragraph." in after


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["class-agreement", "class-position-bias", "class-heldout"])
def test_the_class_pages_explanations_are_what_an_admin_wrote(
    instructor_client, classroom, content, key
):
    from courseware import content as course_content
    from courseware.models import TeachingText

    TeachingText.objects.filter(key=key).update(body="An admin rewrote this paragraph.")
    course_content.bump()
    page = reverse("labeling:class-preferences", kwargs={"pk": classroom.pk})
    assert "An admin rewrote this paragraph." in instructor_client.get(page).text
