"""The data migrations of issue 12 bring an existing install's content up to the
corrected text (the loader never overwrites a row, so it cannot), leave an admin's edits
alone, and agree with what a fresh install loads from the content files."""

from __future__ import annotations

import io
import json
from importlib import import_module
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from courseware import content as course_content
from courseware import loader
from courseware.models import (
    ComparePrompt,
    CompareResponse,
    ContentVersion,
    Figure,
    PipelineStage,
    RecapRow,
    Section,
    SFTExample,
    Source,
    TeachingText,
)
from quiz.models import Choice

ROOT = Path(__file__).resolve().parents[2]
fix = import_module("courseware.migrations.0005_correct_shipped_text")
quiz_fix = import_module("quiz.migrations.0002_correct_shipped_text")
labs_fix = import_module("labs.migrations.0002_lab_sections")


def historical_apps(app: str, migration: str):
    """The models as the migration sees them (its own state, not today's code)."""
    return MigrationExecutor(connection).loader.project_state((app, migration)).apps


def run_courseware_fix() -> None:
    fix.correct_shipped_text(historical_apps("courseware", "0005_correct_shipped_text"), None)


def run_labs_fix() -> None:
    """Issue 14's migration, which runs after this one on an install that upgrades."""
    labs_fix.add_lab_sections(historical_apps("labs", "0002_lab_sections"), None)


def run_quiz_fix() -> None:
    quiz_fix.correct_shipped_text(historical_apps("quiz", "0002_correct_shipped_text"), None)


def old(fields: dict) -> dict:
    return {name: pair[0] for name, pair in fields.items()}


def section_orders() -> dict[str, int]:
    return dict(Section.objects.filter(module__slug="post-training").values_list("slug", "order"))


def ship_the_old_release() -> None:
    """Put the loaded content back as the release before issue 12 shipped it."""
    c = fix.CORRECTIONS
    for key, fields in c["TeachingText"].items():
        TeachingText.objects.filter(key=key).update(**old(fields))
    for slug, fields in c["PipelineStage"].items():
        PipelineStage.objects.filter(slug=slug).update(**old(fields))
    for slug, fields in c["SFTExample"].items():
        SFTExample.objects.filter(slug=slug).update(**old(fields))
    for slug, fields in c["ComparePrompt"].items():
        ComparePrompt.objects.filter(slug=slug).update(**old(fields))
    for key, fields in c["CompareResponse"].items():
        prompt, stage = key.split("/")
        CompareResponse.objects.filter(prompt__slug=prompt, stage=stage).update(**old(fields))
    SFTExample.objects.update(provenance="written", source=None, attribution="")
    CompareResponse.objects.update(provenance="written", source=None, attribution="")
    Figure.objects.filter(source__key__in=fix.NEW_SOURCES).delete()
    for stage in PipelineStage.objects.all():
        stage.sources.remove(*Source.objects.filter(key__in=fix.NEW_SOURCES))
    Source.objects.filter(key__in=fix.NEW_SOURCES).delete()
    sections = Section.objects.filter(module__slug="post-training")
    for slug, fields in c["Section"].items():
        sections.filter(slug=slug).update(**old(fields))
    sections.filter(slug__in=["critique", "closing"]).delete()
    sections.filter(url_name__startswith="labs:").delete()  # issue 14's labs came later
    sections.filter(slug="rlaif").update(order=8)
    sections.filter(slug="quiz").update(order=9)


@pytest.fixture
def old_release(content):
    ship_the_old_release()
    course_content.forget()
    return content


@pytest.mark.django_db
def test_the_old_release_really_held_the_wrong_text(old_release):
    assert "smaller still" in TeachingText.objects.get(key="pipeline-compute").body
    assert "(1611)" in TeachingText.objects.get(key="pretraining-model").body
    assert section_orders()["rlaif"] == 8


@pytest.mark.django_db
def test_the_migration_corrects_every_shipped_field(old_release):
    run_courseware_fix()
    c = fix.CORRECTIONS
    for key, fields in c["TeachingText"].items():
        row = TeachingText.objects.get(key=key)
        assert {f: getattr(row, f) for f in fields} == {f: new for f, (_, new) in fields.items()}
    for slug, fields in c["PipelineStage"].items():
        row = PipelineStage.objects.get(slug=slug)
        assert {f: getattr(row, f) for f in fields} == {f: new for f, (_, new) in fields.items()}
    for key, fields in c["CompareResponse"].items():
        prompt, stage = key.split("/")
        row = CompareResponse.objects.get(prompt__slug=prompt, stage=stage)
        assert {f: getattr(row, f) for f in fields} == {f: new for f, (_, new) in fields.items()}
    assert "smaller still" not in TeachingText.objects.get(key="pipeline-compute").body
    assert SFTExample.objects.get(slug="moon-landing").instruction.endswith("a few sentences.")


@pytest.mark.django_db
def test_the_migration_labels_the_published_outputs_and_links_the_new_sources(old_release):
    run_courseware_fix()
    example = SFTExample.objects.select_related("source").get(slug="moon-landing")
    assert example.provenance == "published"
    assert example.source.key == "openai-instruction-following"
    published = CompareResponse.objects.filter(provenance="published")
    assert sorted(published.values_list("prompt__slug", "stage")) == [
        ("moon-landing", "base"),
        ("moon-landing", "rlhf"),
    ]
    assert CompareResponse.objects.filter(provenance="written").count() == 16
    bt = Source.objects.get(key="bradley-terry")
    assert (bt.arxiv_id, bt.link) == ("", "https://doi.org/10.2307/2334029")
    linked = set(
        PipelineStage.objects.get(slug="reward-model").sources.values_list("key", flat=True)
    )
    assert {"bradley-terry", "christiano", "stiennon", "singhal", "sharma"} <= linked
    dpo = set(PipelineStage.objects.get(slug="dpo").sources.values_list("key", flat=True))
    assert "mixtral" in dpo


@pytest.mark.django_db
def test_the_migration_leaves_an_admins_edits_alone(old_release):
    TeachingText.objects.filter(key="pipeline-compute").update(body="An admin's own words.")
    PipelineStage.objects.filter(slug="dpo").update(data_scale="Our own DPO notes.")
    CompareResponse.objects.filter(prompt__slug="moon-landing", stage="base").update(
        text="An admin's own base answer."
    )
    run_courseware_fix()
    assert TeachingText.objects.get(key="pipeline-compute").body == "An admin's own words."
    dpo = PipelineStage.objects.get(slug="dpo")
    assert dpo.data_scale == "Our own DPO notes."
    assert not dpo.sources.filter(key="mixtral").exists()  # its text does not cite Mixtral
    base = CompareResponse.objects.get(prompt__slug="moon-landing", stage="base")
    assert (base.text, base.provenance) == ("An admin's own base answer.", "written")
    # the fields nobody edited were still corrected
    assert "12 times" in PipelineStage.objects.get(slug="rlhf").data_scale


@pytest.mark.django_db
def test_the_migration_makes_room_for_the_critique_step_and_the_loader_adds_both_sections(
    old_release,
):
    before = ContentVersion.objects.get().token
    run_courseware_fix()
    assert ContentVersion.objects.get().token != before  # every process rereads content
    orders = section_orders()
    assert (orders["rlaif"], orders["quiz"]) == (9, 10)
    assert 8 not in orders.values()
    run_labs_fix()  # issue 14's labs go in next, leaving the critique's place free
    loader.load_content(stdout=io.StringIO())
    orders = section_orders()
    assert orders["policy"] < orders["over-optimisation"] < orders["critique"] == 10
    assert orders["critique"] < orders["rlaif"] < orders["quiz"] < orders["closing"] == 14


@pytest.mark.django_db
def test_running_the_migration_twice_changes_nothing_more(old_release):
    run_courseware_fix()
    orders = section_orders()
    texts = dict(TeachingText.objects.values_list("key", "body"))
    run_courseware_fix()
    assert section_orders() == orders
    assert dict(TeachingText.objects.values_list("key", "body")) == texts


@pytest.mark.django_db
def test_on_a_fresh_database_the_migration_leaves_everything_to_the_loader():
    run_courseware_fix()
    assert not Source.objects.exists()
    assert not ContentVersion.objects.exists()


def test_the_migrations_corrected_text_is_what_a_fresh_install_loads():
    teaching = json.loads((ROOT / "courseware/content/teaching.json").read_text("utf-8"))
    course = json.loads((ROOT / "courseware/content/course.json").read_text("utf-8"))
    texts = {t["key"]: t for t in teaching["texts"]}
    stages = {s["slug"]: s for s in teaching["stages"]}
    examples = {e["slug"]: e for e in teaching["sft_examples"]}
    prompts = {p["slug"]: p for p in teaching["compare_prompts"]}
    answers = {
        f"{p['slug']}/{r['stage']}": r for p in teaching["compare_prompts"] for r in p["responses"]
    }
    sections = {s["slug"]: s for m in course["modules"] for s in m["sections"]}
    c = fix.CORRECTIONS
    for table, rows in [
        ("TeachingText", texts),
        ("PipelineStage", stages),
        ("SFTExample", examples),
        ("ComparePrompt", prompts),
        ("CompareResponse", answers),
        ("Section", sections),
    ]:
        for key, fields in c[table].items():
            for field, (_, new) in fields.items():
                assert rows[key][field] == new, (table, key, field)
    for slug, keys in fix.STAGE_SOURCES.items():
        assert set(keys) <= set(stages[slug]["sources"]), slug
    shipped = {s["key"]: s for s in teaching["sources"]}
    for key, fields in fix.NEW_SOURCES.items():
        assert {f: shipped[key].get(f, "") for f in fields} == fields, key


# -- the quiz --------------------------------------------------------------------------------


def choice(key: str) -> Choice:
    slug, order = key.rsplit("/", 1)
    return Choice.objects.get(question__slug=slug, order=int(order))


@pytest.mark.django_db
def test_the_quiz_migration_corrects_shipped_explanations_and_keeps_edits(content):
    for key, fields in quiz_fix.CORRECTIONS.items():
        Choice.objects.filter(pk=choice(key).pk).update(**old(fields))
    Choice.objects.filter(pk=choice("labeler-agreement/1").pk).update(explanation="Ours.")
    run_quiz_fix()
    assert choice("labeler-agreement/1").explanation == "Ours."
    for key, fields in quiz_fix.CORRECTIONS.items():
        if key == "labeler-agreement/1":
            continue
        row = choice(key)
        assert {f: getattr(row, f) for f in fields} == {f: new for f, (_, new) in fields.items()}
    assert "human data is" not in choice("post-training-compute/1").explanation
    assert "HH-RLHF" in choice("constitutional-ai-stages/2").text


def test_the_quiz_migrations_corrected_text_is_what_a_fresh_install_loads():
    bank = json.loads((ROOT / "quiz/content/post-training.json").read_text("utf-8"))
    questions = {q["slug"]: q for q in bank["questions"]}
    for key, fields in quiz_fix.CORRECTIONS.items():
        slug, order = key.rsplit("/", 1)
        shipped = questions[slug]["choices"][int(order) - 1]
        for field, (_, new) in fields.items():
            assert shipped[field] == new, (key, field)


# -- 0006: the labeling pages' lesson text as teaching texts -------------------------------

page_texts = import_module("courseware.migrations.0006_page_texts")


def run_page_texts() -> None:
    page_texts.add_page_texts(historical_apps("courseware", "0006_page_texts"), None)


@pytest.mark.django_db
def test_an_install_without_the_page_texts_gets_them_and_a_new_content_version(content):
    keys = [item["key"] for item in page_texts.TEXTS]
    TeachingText.objects.filter(key__in=keys).delete()
    token = ContentVersion.objects.get().token
    run_page_texts()
    assert set(TeachingText.objects.filter(key__in=keys).values_list("key", flat=True)) == set(keys)
    assert ContentVersion.objects.get().token != token


@pytest.mark.django_db
def test_the_page_texts_migration_leaves_an_admin_edit_alone(content):
    TeachingText.objects.filter(key="policy-betas").update(body="Edited by an admin")
    run_page_texts()
    assert TeachingText.objects.get(key="policy-betas").body == "Edited by an admin"


@pytest.mark.django_db
def test_the_page_texts_migration_matches_the_content_file():
    """A fresh install (the loader) and an upgraded one (the migration) show the same text."""
    shipped = json.loads((ROOT / "courseware/content/teaching.json").read_text(encoding="utf-8"))
    by_key = {item["key"]: item for item in shipped["texts"]}
    for item in page_texts.TEXTS:
        assert by_key[item["key"]] == item


# -- 0008: RL with verifiable rewards joins the pipeline -----------------------------------

rlvr_stage = import_module("courseware.migrations.0008_rlvr_stage")


def run_rlvr_stage() -> None:
    rlvr_stage.add_stage(historical_apps("courseware", "0008_rlvr_stage"), None)


@pytest.mark.django_db
def test_an_install_from_before_the_labs_gets_the_rlvr_stage_after_constitutional_ai(content):
    RecapRow.objects.filter(slug="rlvr").delete()
    PipelineStage.objects.filter(slug="rlvr").delete()
    Source.objects.filter(key__in=["deepseekmath", "deepseek-r1"]).delete()
    token = ContentVersion.objects.get().token
    run_rlvr_stage()
    stage = PipelineStage.objects.get(slug="rlvr")
    assert stage.order > PipelineStage.objects.get(slug="constitutional-ai").order
    assert set(stage.sources.values_list("key", flat=True)) == {
        "tulu3",
        "deepseekmath",
        "deepseek-r1",
    }
    row = RecapRow.objects.get(slug="rlvr")
    assert row.stage == stage and row.order > RecapRow.objects.get(slug="dpo").order
    assert ContentVersion.objects.get().token != token
    run_rlvr_stage()  # twice: nothing more
    assert PipelineStage.objects.filter(slug="rlvr").count() == 1
    assert RecapRow.objects.filter(slug="rlvr").count() == 1


@pytest.mark.django_db
def test_the_rlvr_stage_migration_leaves_an_admins_stage_alone(content):
    PipelineStage.objects.filter(slug="rlvr").update(title="Edited by an admin")
    run_rlvr_stage()
    assert PipelineStage.objects.get(slug="rlvr").title == "Edited by an admin"


def test_the_rlvr_stage_migration_matches_the_content_file():
    """A fresh install (the loader) and an upgraded one (the migration) show the same stage."""
    teaching = json.loads((ROOT / "courseware/content/teaching.json").read_text("utf-8"))
    (shipped,) = [s for s in teaching["stages"] if s["slug"] == "rlvr"]
    assert shipped == rlvr_stage.STAGE
    (recap,) = [r for r in teaching["recap"] if r["slug"] == "rlvr"]
    assert recap == rlvr_stage.RECAP
    sources = {s["key"]: s for s in teaching["sources"]}
    for item in rlvr_stage.SOURCES:
        assert sources[item["key"]] == item
