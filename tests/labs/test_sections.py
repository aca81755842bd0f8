"""The three lab sections: in the outline where they teach, on a fresh install and on an
existing one (the data migration), and each page answers as a section of the module."""

from __future__ import annotations

import io
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from courseware import content as course_content
from courseware import loader
from courseware.models import ContentVersion, Section

migration = import_module("labs.migrations.0002_lab_sections")
LABS = ["labs:overoptimisation", "labs:optimisers", "labs:rlvr"]
KW = {"course": "language-models", "module": "post-training"}


def run_migration() -> None:
    state = MigrationExecutor(connection).loader.project_state(("labs", "0002_lab_sections"))
    migration.add_lab_sections(state.apps, None)


def outline() -> list[str]:
    return list(
        Section.objects.filter(module__slug="post-training")
        .order_by("order")
        .values_list("slug", flat=True)
    )


EXPECTED = [
    "pipeline",
    "pre-training",
    "sft",
    "compare",
    "label",
    "profile",
    "policy",
    "over-optimisation",
    "optimisers",
    "critique",
    "rlaif",
    "rlvr",
    "quiz",
    "closing",
]


@pytest.mark.django_db
def test_a_fresh_install_puts_the_labs_after_the_policy_and_rlaif_pages(content):
    assert outline() == EXPECTED
    orders = list(
        Section.objects.filter(module=content).order_by("order").values_list("order", flat=True)
    )
    assert orders == list(range(1, 15))


@pytest.mark.django_db
def test_the_migration_moves_an_existing_install_into_the_same_outline(content):
    Section.objects.filter(url_name__in=LABS).delete()
    before = ContentVersion.objects.get().token
    run_migration()
    assert outline() == EXPECTED
    assert ContentVersion.objects.get().token != before
    rows = Section.objects.filter(module=content)
    assert sorted(rows.values_list("order", flat=True)) == list(range(1, 15))
    lab = rows.get(url_name="labs:overoptimisation")
    assert "arXiv 2210.10760" in lab.body
    loader.load_content(stdout=io.StringIO())  # and the loader then adds nothing more
    assert outline() == EXPECTED


@pytest.mark.django_db
def test_the_migration_keeps_an_admins_own_section_in_its_place(content):
    Section.objects.filter(url_name__in=LABS).delete()
    Section.objects.create(module=content, order=99, slug="extra", title="Extra reading")
    run_migration()
    assert outline() == [*EXPECTED, "extra"]


@pytest.mark.django_db
def test_running_the_migration_twice_changes_nothing_more(content):
    Section.objects.filter(url_name__in=LABS).delete()
    run_migration()
    orders = dict(Section.objects.values_list("slug", "order"))
    run_migration()
    assert dict(Section.objects.values_list("slug", "order")) == orders


@pytest.mark.django_db
def test_on_a_fresh_database_the_migration_leaves_everything_to_the_loader():
    run_migration()
    assert not Section.objects.exists()
    assert not ContentVersion.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", LABS)
def test_each_lab_is_a_section_page_with_the_pager(student_client, content, url_name):
    course_content.forget()
    response = student_client.get(reverse(url_name, kwargs=KW))
    assert response.status_code == 200
    section = Section.objects.get(url_name=url_name)
    assert f"<h1>{section.title}</h1>" in response.text
    assert section.progress.filter(first_seen_at__isnull=False).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", LABS)
def test_anonymous_visitors_are_sent_to_log_in(client, content, url_name):
    response = client.get(reverse(url_name, kwargs=KW))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
