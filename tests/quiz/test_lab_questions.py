"""Issue 14's questions on the labs: in the content file and in the migration alike, each
explained, reaching existing installs, and the attempt draw still spreads over topics."""

from __future__ import annotations

import json
import random
from collections import Counter
from importlib import import_module
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from courseware.models import ContentVersion
from quiz import services
from quiz.loader import validate_question_data
from quiz.models import Question, Quiz, Topic

ROOT = Path(__file__).resolve().parents[2]
migration = import_module("quiz.migrations.0003_lab_questions")
SLUGS = {q["slug"] for q in migration.QUESTIONS}


def run_migration() -> None:
    state = MigrationExecutor(connection).loader.project_state(("quiz", "0003_lab_questions"))
    migration.add_lab_questions(state.apps, None)


def test_the_migration_ships_what_the_content_file_holds():
    bank = json.loads((ROOT / "quiz/content/post-training.json").read_text("utf-8"))
    shipped = {q["slug"]: q for q in bank["questions"]}
    for question in migration.QUESTIONS:
        assert shipped[question["slug"]] == question


def test_the_migrations_intro_is_what_the_content_file_holds():
    bank = json.loads((ROOT / "quiz/content/post-training.json").read_text("utf-8"))
    assert migration.INTRO[1] == bank["quiz"]["intro"]
    assert "verifiable rewards" in migration.INTRO[1]


@pytest.mark.django_db
def test_the_migration_corrects_the_shipped_intro_but_not_an_admins(content):
    quiz = Quiz.objects.get()
    Quiz.objects.filter(pk=quiz.pk).update(intro=migration.INTRO[0])
    run_migration()
    assert Quiz.objects.get().intro == migration.INTRO[1]
    Quiz.objects.filter(pk=quiz.pk).update(intro="Our own intro.")
    run_migration()
    assert Quiz.objects.get().intro == "Our own intro."


def test_five_lab_questions_each_with_four_explained_choices():
    assert {
        "overoptimisation-gold",
        "best-of-n-kl",
        "dpo-likelihood-displacement",
        "grpo-zero-advantage",
        "verifiable-rewards",
    } == SLUGS
    for question in migration.QUESTIONS:
        validate_question_data(question)  # raises on a missing explanation or two answers
        assert question["topic"] in Topic.values


@pytest.mark.django_db
def test_the_migration_adds_the_questions_to_an_existing_bank_once(content):
    Question.objects.filter(slug__in=SLUGS).delete()
    before = ContentVersion.objects.get().token
    run_migration()
    quiz = Quiz.objects.get()
    added = Question.objects.filter(quiz=quiz, slug__in=SLUGS)
    assert added.count() == 5
    assert all(q.choices.count() == 4 for q in added)
    assert ContentVersion.objects.get().token != before
    run_migration()
    assert Question.objects.filter(quiz=quiz, slug__in=SLUGS).count() == 5


@pytest.mark.django_db
def test_an_order_an_admin_took_puts_the_new_question_last(content):
    Question.objects.filter(slug__in=SLUGS).delete()
    Question.objects.filter(slug="data-scale").update(order=16)
    run_migration()
    # 16 is the admin's: the first new question goes after it, and the rest follow.
    orders = dict(Question.objects.filter(slug__in=SLUGS).values_list("slug", "order"))
    assert orders["overoptimisation-gold"] == 17
    assert sorted(orders.values()) == [17, 18, 19, 20, 21]
    assert Question.objects.get(slug="data-scale").order == 16


@pytest.mark.django_db
def test_on_a_fresh_database_the_migration_leaves_the_bank_to_the_loader():
    run_migration()
    assert not Question.objects.exists()


@pytest.mark.django_db
def test_attempts_still_draw_five_topics_and_every_topic_comes_up(content, make_user):
    quiz = Quiz.objects.get()
    seen = Counter()
    for seed in range(40):
        user = make_user(f"drawer{seed}")
        attempt = services.attempt_start(user=user, quiz=quiz, rng=random.Random(seed))
        topics = [slot.question.topic for slot in attempt.slots.select_related("question")]
        assert len(set(topics)) == 5  # never two questions on one topic
        seen.update(topics)
    assert set(seen) == set(Question.objects.values_list("topic", flat=True))
    assert seen[Topic.RLVR] > 0
