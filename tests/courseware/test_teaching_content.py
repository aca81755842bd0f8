"""The teaching content: loaded idempotently, never overwritten, editable in admin."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from courseware import loader
from courseware.models import (
    ComparePrompt,
    CompareResponse,
    Figure,
    PipelineStage,
    SFTExample,
    Source,
    TeachingText,
)

KW = {"course": "language-models", "module": "post-training"}
MODELS = [Source, TeachingText, PipelineStage, Figure, SFTExample, ComparePrompt, CompareResponse]


@pytest.mark.django_db
def test_loading_twice_creates_nothing_new(content):
    counts = {model: model.objects.count() for model in MODELS}
    loader.load_content(stdout=io.StringIO())
    assert {model: model.objects.count() for model in MODELS} == counts
    assert counts[PipelineStage] == 7
    assert counts[SFTExample] >= 3
    assert counts[ComparePrompt] >= 6
    assert counts[CompareResponse] == 3 * counts[ComparePrompt]


@pytest.mark.django_db
def test_loading_again_keeps_admin_edits_and_links(content):
    PipelineStage.objects.filter(slug="sft").update(title="Edited SFT")
    stage = PipelineStage.objects.get(slug="dpo")
    stage.sources.clear()
    CompareResponse.objects.filter(prompt__slug="headache", stage="rlhf").update(text="Mine.")
    loader.load_content(stdout=io.StringIO())
    assert PipelineStage.objects.get(slug="sft").title == "Edited SFT"
    assert stage.sources.count() == 0
    assert CompareResponse.objects.get(prompt__slug="headache", stage="rlhf").text == "Mine."


@pytest.mark.django_db
def test_every_figure_and_stage_cites_an_arxiv_source(content):
    assert all(figure.source.arxiv_id for figure in Figure.objects.select_related("source"))
    for stage in PipelineStage.objects.prefetch_related("sources"):
        assert [s.arxiv_id for s in stage.sources.all()], stage.slug
    compute = {f.key: f.value for f in Figure.objects.filter(group="compute")}
    assert compute == {
        "gpt3-pretraining-compute": 3640,
        "instructgpt-sft-compute": 4.9,
        "instructgpt-ppo-compute": 60,
    }


@pytest.mark.django_db
def test_markdown_in_content_does_not_render_raw_html(student_client, content):
    TeachingText.objects.filter(key="sft-intro").update(body="<script>alert(1)</script> *ok*")
    text = student_client.get(reverse("courseware:sft", kwargs=KW)).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text


def admin_form_data(response) -> dict:
    """The POST body an admin change form would send unchanged, inlines included."""
    data: dict = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = value if not isinstance(value, list | tuple) else [str(v) for v in value]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for form in formset.forms:
            for field in form:
                value = field.value()
                if value is not None and value is not False:
                    data[field.html_name] = value
    return data


def admin_edit(client, obj, **changes):
    url = reverse(f"admin:courseware_{obj._meta.model_name}_change", args=[obj.pk])
    data = admin_form_data(client.get(url)) | changes
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


@pytest.mark.django_db
def test_admin_edit_of_a_stage_shows_on_its_page(client, admin_user, content):
    client.force_login(admin_user)
    stage = PipelineStage.objects.get(slug="reward-model")
    admin_edit(client, stage, adds="Edited by the admin: **a score** for any answer.")
    page = client.get(reverse("courseware:pipeline-stage", kwargs={**KW, "stage": stage.slug}))
    assert "Edited by the admin: <strong>a score</strong> for any answer." in page.text
    assert stage.sources.count() == 8  # the sources survived the round trip


@pytest.mark.django_db
def test_admin_edit_of_a_prompt_and_a_response_shows_in_the_viewer(client, admin_user, content):
    client.force_login(admin_user)
    prompt = ComparePrompt.objects.get(slug="stock-market")
    admin_edit(client, prompt, title="Edited market prompt")
    answer = CompareResponse.objects.get(prompt=prompt, stage="sft")
    admin_edit(client, answer, text="An edited SFT answer.", note="An edited note.")
    page = client.get(reverse("courseware:compare", kwargs=KW), {"prompt": "stock-market"})
    assert "Edited market prompt" in page.text
    assert "An edited SFT answer." in page.text
    assert "An edited note." in page.text


@pytest.mark.django_db
def test_admin_lists_the_teaching_models(client, admin_user, content):
    client.force_login(admin_user)
    for model in MODELS:
        url = reverse(f"admin:courseware_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, model
