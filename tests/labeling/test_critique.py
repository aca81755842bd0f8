"""Constitutional AI's critique-and-revise step: the step parser (no database), the page
through the test client (full page, htmx partial, bad input, queries), the content
loader and admin."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils.html import escape

from courseware.models import Section, SectionProgress
from labeling import loader
from labeling.critique import STEPS, parse_step
from labeling.models import CritiqueExample, Principle

from .conftest import url

HX = {"HX-Request": "true"}
# A first visit with content in memory: session, user with role and version, the
# learner's progress in the module, the visit's insert.
CRITIQUE_QUERIES = 4


@pytest.mark.parametrize(
    ("raw", "step"),
    [(None, 1), ("", 1), ("1", 1), ("2", 2), ("3", 3), ("9", 3), ("0", 1), ("-2", 1),
     ("two", 1), ("٣", 1), ("1" * 40, 1)],
)  # fmt: skip
def test_parse_step_keeps_the_step_within_the_round(raw, step):
    assert parse_step(raw) == step


def test_a_round_has_three_steps():
    assert STEPS == ("the first answer", "the critique", "the revision")


@pytest.mark.django_db
def test_the_critique_section_comes_just_before_the_rlaif_page(content):
    sections = list(Section.objects.filter(module=content).order_by("order"))
    names = [s.url_name for s in sections]
    assert names.index("labeling:critique") + 1 == names.index("labeling:rlaif")


@pytest.mark.django_db
def test_the_page_offers_every_principle_with_a_round(
    student_client, warm_content, django_assert_num_queries
):
    with django_assert_num_queries(CRITIQUE_QUERIES):
        response = student_client.get(url("critique"))
    assert response.status_code == 200
    page = response.text
    assert page.count('type="radio" name="principle"') == CritiqueExample.objects.count() == 4
    assert "Choose a principle to see one round" in page
    assert "arXiv 2212.08073" in page
    assert SectionProgress.objects.filter(section__slug="critique").count() == 1


@pytest.mark.django_db
def test_a_round_is_revealed_one_step_at_a_time(student_client, content):
    example = CritiqueExample.objects.get(principle__slug="harmless")
    first = student_client.get(url("critique"), {"principle": "harmless"}).text
    assert escape(example.first_response) in first
    assert escape(example.critique) not in first
    assert 'href="?principle=harmless&amp;step=2"' in first
    assert "Next: the critique" in first

    second = student_client.get(url("critique"), {"principle": "harmless", "step": 2}).text
    assert escape(example.critique_request) in second and escape(example.critique) in second
    assert escape(example.revision) not in second
    assert "Next: the revision" in second

    third = student_client.get(url("critique"), {"principle": "harmless", "step": 3}).text
    assert escape(example.revision) in third
    assert "Next:" not in third.split('id="critique-result"')[1]
    assert "What happens to the revision" in third
    assert 'value="harmless" required checked' in third


@pytest.mark.django_db
def test_focus_goes_to_the_newest_step(student_client, content):
    for step, heading in [(1, 'id="round-heading" tabindex="-1"'), (2, 'id="step-2" tabindex="-1"'),
                          (3, 'id="step-3" tabindex="-1"')]:  # fmt: skip
        page = student_client.get(url("critique"), {"principle": "honest", "step": step}).text
        assert page.count('tabindex="-1"', page.index('id="critique-result"')) == 1
        assert heading in page


@pytest.mark.django_db
def test_the_choice_of_principle_decides_what_is_fixed(student_client, content):
    brief = student_client.get(url("critique"), {"principle": "brief", "step": 3}).text
    harmless = student_client.get(url("critique"), {"principle": "harmless", "step": 3}).text
    assert "shorter but no safer" in brief
    assert "I can&#x27;t help with getting onto someone else&#x27;s wifi" in harmless


@pytest.mark.django_db
def test_htmx_gets_only_the_round(student_client, content):
    response = student_client.get(url("critique"), {"principle": "kind", "step": 2}, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="critique-result"')
    assert "<html" not in response.text
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize("principle", ["nonsense", "../etc", "professional"])
def test_a_principle_without_a_round_is_a_readable_400(student_client, content, principle):
    response = student_client.get(url("critique"), {"principle": principle})
    assert response.status_code == 400
    assert "That principle has no example here" in response.text
    assert response.text.count('type="radio" name="principle"') == 4  # the choice stays


@pytest.mark.django_db
def test_a_repeated_view_writes_nothing(student_client, content, django_assert_num_queries):
    student_client.get(url("critique"))
    with django_assert_num_queries(3):  # session, user with version, progress: no insert
        assert student_client.get(url("critique"), {"principle": "kind"}).status_code == 200


@pytest.mark.django_db
def test_the_page_needs_a_login(client, content):
    response = client.get(url("critique"))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


@pytest.mark.django_db
def test_the_done_button_finishes_the_section(student_client, student, content):
    done = reverse(
        "courseware:section-done",
        kwargs={"course": "language-models", "module": "post-training", "section": "critique"},
    )
    assert student_client.post(done).status_code == 302
    assert SectionProgress.objects.get(user=student, section__slug="critique").done_at


# -- content ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_loading_twice_creates_no_round_and_keeps_an_admins_edit(content):
    CritiqueExample.objects.filter(principle__slug="kind").update(revision="An admin's revision.")
    loader.load_content(stdout=io.StringIO())
    assert CritiqueExample.objects.count() == 4
    assert CritiqueExample.objects.get(principle__slug="kind").revision == "An admin's revision."


@pytest.mark.django_db
def test_every_round_is_labelled_as_written_for_the_course(content):
    for example in CritiqueExample.objects.all():
        assert example.provenance == "written"
        assert example.prompt and example.first_response and example.critique and example.revision


@pytest.mark.django_db
def test_an_admin_edit_shows_on_the_next_request(client, admin_user, student, content):
    example = CritiqueExample.objects.get(principle__slug="honest")
    client.force_login(admin_user)
    change = reverse("admin:labeling_critiqueexample_change", args=[example.pk])
    assert client.get(change).status_code == 200
    form = {
        field: getattr(example, field)
        for field in ("slug", "order", "prompt", "first_response", "critique_request",
                      "critique", "revision_request", "revision", "note", "provenance",
                      "attribution")
    }  # fmt: skip
    form |= {"principle": example.principle_id, "source": "", "critique": "Edited critique."}
    assert client.post(change, form).status_code == 302
    client.force_login(student)
    page = client.get(url("critique"), {"principle": "honest", "step": 2}).text
    assert "Edited critique." in page


@pytest.mark.django_db
def test_a_published_round_needs_a_source(content):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    example = CritiqueExample.objects.first()
    example.provenance = "published"
    with pytest.raises(ValidationError):
        example.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        example.save()


@pytest.mark.django_db
def test_one_round_per_principle(content):
    from django.db import IntegrityError, transaction

    taken = CritiqueExample.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        CritiqueExample.objects.create(
            slug="again", order=99, principle=taken.principle, prompt="p", first_response="r",
            critique_request="c", critique="c", revision_request="r", revision="r",
        )  # fmt: skip
    assert Principle.objects.filter(critique__isnull=True).count() == 4
