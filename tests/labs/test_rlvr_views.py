"""The RLVR page: GRPO from the URL (no labeling needed), the rejection-sampling round
judged by the learner's stored reward model, bad input, htmx, query counts, content."""

from __future__ import annotations

import io
import random
import re

import pytest
from django.urls import reverse

from courseware.models import SectionProgress, TeachingText
from labeling import services
from labeling.models import LabelingSession, ScreenSide
from labs import loader, rlvr, rlvr_lab
from labs.models import RLVRAnswer, RLVRTask

KW = {"course": "language-models", "module": "post-training"}
HX = {"HX-Request": "true", "HX-Target": "grpo-lab"}
HX_RS = {"HX-Request": "true", "HX-Target": "rs-lab"}


def url(query: str = "") -> str:
    return reverse("labs:rlvr", kwargs=KW) + query


@pytest.fixture
def finished(content, student) -> LabelingSession:
    session, _ = services.session_start(user=student, rng=random.Random(2))
    for shown in session.shown.all():
        services.pick_record(session=session, pair=shown.pair_id, side=ScreenSide.LEFT)
    return services.session_finish(session=session)


@pytest.mark.django_db
def test_the_shipped_tasks_load_once_and_keep_an_admins_edit(content):
    assert RLVRTask.objects.count() == 4
    assert RLVRAnswer.objects.count() == 19
    task = RLVRTask.objects.get(slug="add-47-38")
    task.prompt = "What is forty-seven plus thirty-eight?"
    task.save()
    loader.load_content(stdout=io.StringIO())
    assert RLVRTask.objects.count() == 4 and RLVRAnswer.objects.count() == 19
    assert RLVRTask.objects.get(slug="add-47-38").prompt.startswith("What is forty-seven")
    assert TeachingText.objects.filter(key__startswith="rlvr-").count() == 4
    assert [t.slug for t in rlvr_lab.tasks()][0] == "add-47-38"


@pytest.mark.django_db
def test_a_task_the_checker_cannot_use_is_refused_in_admin_validation(content):
    from django.core.exceptions import ValidationError

    task = RLVRTask(slug="bad", prompt="?", kind="unit_conversion", params={"value": 1})
    with pytest.raises(ValidationError):
        task.full_clean()


@pytest.mark.django_db
def test_grpo_runs_without_labeling_and_rejection_sampling_asks_to_label(student_client, content):
    page = student_client.get(url("?steps=20"))
    assert page.status_code == 200
    assert 'id="grpo-lab"' in page.text
    assert "Step <strong>20</strong>" in page.text
    assert "Label the six pairs first" in page.text
    assert "arXiv 2402.03300" in page.text and "arXiv 2411.15124" in page.text
    assert "arXiv 2501.12948" in page.text and "arXiv 2307.09288" in page.text


@pytest.mark.django_db
def test_the_page_shows_the_run_the_core_computes(student_client, content):
    page = student_client.get(url("?steps=40&group=8&kl=0.04&seed=5"))
    run = rlvr.grpo_run(rlvr_lab.tasks(), rlvr.GRPOSettings(group=8, kl_weight=0.04), seed=5,
                        steps=40)  # fmt: skip
    accuracy = f"{run.accuracy[-1] * 100:.1f}%"
    assert f"answers right <strong>{accuracy}</strong>" in page.text
    assert run.accuracy[-1] > run.accuracy[0]
    zero = int(run.zero_advantage_groups.sum())
    assert f"<strong>{zero} of 160</strong> groups so far scored all the same" in page.text


@pytest.mark.django_db
def test_a_group_that_scored_the_same_is_called_out(student_client, content):
    # Late in a run the easy tasks are mastered: their groups all score 1.
    page = student_client.get(url("?steps=300&group=4&kl=0"))
    assert "every answer scored the same, so every advantage is 0" in page.text


@pytest.mark.django_db
def test_rejection_sampling_uses_the_stored_fit(student_client, finished):
    page = student_client.get(url("?k=8&prompt=key-error"))
    assert page.status_code == 200
    assert 'id="rs-lab"' in page.text
    found = re.search(r"went from (-?\d+\.\d+) to <strong>(-?\d+\.\d+)</strong>", page.text)
    assert found and float(found.group(2)) > float(found.group(1))
    assert "log 8 − 7/8 = 1.204" in page.text


@pytest.mark.django_db
def test_htmx_swaps_one_part_and_carries_the_other_out_of_band(student_client, finished):
    grpo = student_client.get(url("?steps=3"), headers=HX)
    assert grpo.text.lstrip().startswith('<div id="grpo-lab"')
    assert '<div id="rs-lab" class="lab-region" hx-swap-oob="true"' in grpo.text
    rs = student_client.get(url("?steps=3&k=2"), headers=HX_RS)
    assert rs.text.lstrip().startswith('<div id="rs-lab"')
    assert '<div id="grpo-lab" class="lab-region" hx-swap-oob="true"' in rs.text
    assert "<html" not in rs.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?seed=x", "seed must be a whole number"),
        ("?seed=%D9%A3", "seed must be a whole number"),
        ("?steps=1001", "step count must be a whole number from 0 to 1000"),
        ("?steps=%F0%9D%9F%93", "step count must be a whole number"),  # mathematical bold 5
        ("?group=3", "group size G must be one of"),
        ("?kl=0.5", "KL weight must be one of"),
        ("?k=1000", "k must be one of"),
        ("?prompt=../../etc", "no held-out prompt called"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(student_client, student, content, query, message):
    response = student_client.get(url(query))
    assert response.status_code == 400
    assert message in response.text
    section = content.sections.get(url_name="labs:rlvr")
    assert not SectionProgress.objects.filter(user=student, section=section).exists()
    assert student_client.get(url(query), headers=HX).status_code == 400


@pytest.mark.django_db
def test_query_count_does_not_grow_with_steps_or_group(
    student_client, finished, warm_content, django_assert_num_queries
):
    rlvr_lab.tasks()  # warm, as a serving process is
    student_client.get(url())
    with django_assert_num_queries(4) as small:
        student_client.get(url())
    with django_assert_num_queries(len(small.captured_queries)):
        student_client.get(url("?steps=1000&group=64&k=16"))


@pytest.mark.django_db
def test_admin_lists_opens_and_edits_an_rlvr_task(client, admin_user, content, student_client):
    client.force_login(admin_user)
    assert client.get(reverse("admin:labs_rlvrtask_changelist")).status_code == 200
    task = RLVRTask.objects.get(slug="km-to-m")
    change = reverse("admin:labs_rlvrtask_change", args=[task.pk])
    assert client.get(change).status_code == 200
    answers = list(task.answers.order_by("order"))
    data = {
        "slug": task.slug, "order": task.order, "prompt": "How many metres are in 3 km?",
        "kind": task.kind, "params": '{"value": 3, "from": "km", "to": "m"}',
        "answers-TOTAL_FORMS": len(answers), "answers-INITIAL_FORMS": len(answers),
        "answers-MIN_NUM_FORMS": 0, "answers-MAX_NUM_FORMS": 1000,
    }  # fmt: skip
    for i, a in enumerate(answers):
        data |= {f"answers-{i}-id": a.pk, f"answers-{i}-task": task.pk,
                 f"answers-{i}-order": a.order, f"answers-{i}-label": a.label,
                 f"answers-{i}-text": "3,000 m" if i == 0 else a.text,
                 f"answers-{i}-ref_prob": a.ref_prob}  # fmt: skip
    response = client.post(change, data)
    assert response.status_code == 302, response.content[:2000]
    # The next request sees the edit: the checker now wants 3,000.
    page = student_client.get(url())
    assert "How many metres are in 3 km?" in page.text
    edited = next(t for t in rlvr_lab.tasks() if t.slug == "km-to-m")
    assert edited.scores[0] == 1 and edited.scores[2] == 0
    # A rule the checker cannot apply is refused with a message, nothing saved.
    data["params"] = '{"value": 3, "from": "km", "to": "kg"}'
    refused = client.post(change, data)
    assert refused.status_code == 200 and "checker cannot use" in refused.text
    assert RLVRTask.objects.get(pk=task.pk).params == {"value": 3, "from": "km", "to": "m"}
