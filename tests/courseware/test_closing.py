"""The module's closing section: one table of what each stage adds and costs, built from
the published figures with their sources, and why the result is layered."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse

from courseware import content as course_content
from courseware import loader
from courseware.models import PipelineStage, RecapRow, Section, SectionProgress
from tests.conftest import fill_content_caches

KW = {"course": "language-models", "module": "post-training"}
URL = reverse("courseware:closing", kwargs=KW)
# A first visit with content in memory: session, user with role and version, the
# learner's progress in the module, the visit's insert.
CLOSING_QUERIES = 4


def table(html: str) -> str:
    return html[html.index('<table class="data-table recap-table">') : html.index("</table>")]


@pytest.mark.django_db
def test_the_closing_section_ends_the_module(content):
    last = Section.objects.filter(module=content).order_by("-order").first()
    assert last.url_name == "courseware:closing"


@pytest.mark.django_db
def test_the_table_has_a_row_per_stage_with_every_column(
    student_client, warm_content, django_assert_num_queries
):
    with django_assert_num_queries(CLOSING_QUERIES):
        response = student_client.get(URL)
    assert response.status_code == 200
    rows = table(response.text)
    headers = re.findall(r'<th scope="col">([^<]+)</th>', rows)
    assert headers == [
        "Stage",
        "Data",
        "Algorithm",
        "What it adds",
        "Compute (published)",
        "People",
    ]
    assert rows.count('<th scope="row">') == RecapRow.objects.count() == 7
    for stage in PipelineStage.objects.all():  # each row links its stage's page
        assert reverse("courseware:pipeline-stage", kwargs={**KW, "stage": stage.slug}) in rows


@pytest.mark.django_db
def test_the_table_holds_the_published_figures_and_says_where_there_are_none(
    student_client, content
):
    rows = table(student_client.get(URL).text)
    for figure in ["3,640 petaflop/s-days", "4.9 petaflop/s-days", "60 petaflop/s-days",
                   "about 12× the SFT step", "3.8 × 10²⁵ FLOPs", "about 939k", "1,418,091",
                   "β = 0.02", "β = 0.1"]:  # fmt: skip
        assert figure in rows, figure
    assert rows.count("No published figure.") == 4  # reward model, DPO, CAI, RLVR
    assert "100" not in rows  # no trace of the seed's "about 100× less compute per stage"


@pytest.mark.django_db
def test_the_page_says_what_each_stage_costs_and_why_the_result_is_layered(student_client, content):
    page = student_client.get(URL).text
    assert "What each stage costs" in page
    assert "Why an assistant is a layered artefact" in page
    assert "about 12 times as much as the SFT step" in page
    assert "not from reinforcement learning as such" in page


@pytest.mark.django_db
def test_the_page_cites_every_source_the_table_and_text_rely_on(student_client, content):
    sources = student_client.get(URL).text.split('id="sources-heading"')[1]
    for arxiv in ["2203.02155", "2307.09288", "2407.21783", "2305.11206", "2411.15124",
                  "1706.03741", "2009.01325", "2204.05862", "2305.18290", "2401.04088",
                  "2212.08073", "2310.03716", "2310.13548", "2210.10760"]:  # fmt: skip
        assert f"arXiv {arxiv}</a>" in sources, arxiv
    assert "Biometrika 39" in sources and "Claude&#x27;s Constitution" in sources


@pytest.mark.django_db
def test_the_wide_table_can_be_scrolled_with_the_keyboard(student_client, content):
    page = student_client.get(URL).text
    assert (
        '<div class="table-scroll" tabindex="0" role="region" aria-labelledby="recap-caption">'
        in page
    )
    assert '<caption id="recap-caption">' in page


@pytest.mark.django_db
def test_an_edited_row_shows_and_a_reload_keeps_it(student_client, content):
    RecapRow.objects.filter(slug="dpo").update(compute="Edited: **none** published.")
    course_content.bump()  # a bulk .update() sends no signal; an admin's save would bump
    assert "Edited: <strong>none</strong> published." in student_client.get(URL).text
    loader.load_content(stdout=io.StringIO())
    assert RecapRow.objects.get(slug="dpo").compute == "Edited: **none** published."


@pytest.mark.django_db
def test_rows_cost_no_queries_of_their_own(student_client, warm_content, django_assert_num_queries):
    stage = PipelineStage.objects.first()
    for n in range(20):
        RecapRow.objects.create(
            slug=f"extra-{n}", order=100 + n, stage=stage, name=f"Extra {n}", data="d",
            algorithm="a", adds="a", compute="c", people="p",
        )  # fmt: skip
    fill_content_caches()
    with django_assert_num_queries(CLOSING_QUERIES):
        assert student_client.get(URL).status_code == 200


@pytest.mark.django_db
def test_done_finishes_the_module_and_anonymous_visitors_log_in(client, student, content):
    assert client.get(URL).status_code == 302
    client.force_login(student)
    client.get(URL)
    done = reverse("courseware:section-done", kwargs={**KW, "section": "closing"})
    assert client.post(done).status_code == 302
    assert SectionProgress.objects.get(user=student, section__slug="closing").done_at
