"""Draft (unpublished) modules are closed (issue 13, finding 3).

A draft module's page, a section added to it in admin and its Done endpoint (which
writes progress) were open to every logged-in user. Every URL under a module, found from
the resolver, now answers 404 for a draft to learners and instructors; staff may preview.
"""

from __future__ import annotations

import re

import pytest
from django.urls import get_resolver, reverse

from courseware.models import Module, Section, SectionProgress
from tests.test_access_matrix import iter_patterns


@pytest.fixture
def draft(content) -> Module:
    module = Module.objects.create(
        course=content.course, number=99, slug="draft", title="Draft", is_published=False
    )
    Section.objects.create(module=module, order=1, slug="reading", title="Reading", body="Soon.")
    for order, url_name in enumerate(
        ["labeling:session", "labeling:profile", "quiz:quiz", "courseware:compare"], start=2
    ):
        Section.objects.create(
            module=module, order=order, slug=f"s{order}", title="x", url_name=url_name
        )
    return module


# Values for every other URL argument: objects that exist (or not: the draft check
# must come first either way).
OTHER_KWARGS = {"section": "reading", "pk": 1, "session": 1, "stage": "rlhf"}


def module_urls(draft: Module) -> list[tuple[str, str]]:
    """(name, URL) for every URL pattern that takes a module, pointed at the draft."""
    urls = []
    for name, route in iter_patterns(get_resolver().url_patterns):
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if "module" not in params:
            continue
        kwargs = {"course": draft.course.slug, "module": draft.slug}
        kwargs |= {p: OTHER_KWARGS[p] for p in params if p not in kwargs}
        urls.append((name, reverse(name, kwargs=kwargs)))
    return urls


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["student", "instructor"])
def test_every_url_of_a_draft_module_is_404_for_learners_and_instructors(
    client, draft, student, instructor, role
):
    """Guards every page, fragment, export and POST under a draft module: the module page,
    its sections, and Done (which wrote progress)."""
    client.force_login(student if role == "student" else instructor)
    urls = module_urls(draft)
    assert len(urls) > 20  # the resolver found the module's URLs, not an empty list
    for name, url in urls:
        assert client.get(url).status_code in (404, 405), (name, url)
        assert client.post(url).status_code in (404, 405), (name, url)
    assert not SectionProgress.objects.filter(section__module=draft).exists()


@pytest.mark.django_db
def test_done_on_a_draft_section_writes_nothing(client, draft, student):
    client.force_login(student)
    url = reverse(
        "courseware:section-done",
        kwargs={"course": draft.course.slug, "module": draft.slug, "section": "reading"},
    )
    assert client.post(url).status_code == 404
    assert SectionProgress.objects.count() == 0


@pytest.mark.django_db
def test_staff_may_preview_a_draft(client, draft, admin_user):
    client.force_login(admin_user)
    kwargs = {"course": draft.course.slug, "module": draft.slug}
    assert client.get(reverse("courseware:module", kwargs=kwargs)).status_code == 200
    section = reverse("courseware:section", kwargs=kwargs | {"section": "reading"})
    assert client.get(section).status_code == 200


@pytest.mark.django_db
def test_published_modules_stay_open(client, content, student):
    client.force_login(student)
    kwargs = {"course": content.course.slug, "module": content.slug}
    assert client.get(reverse("courseware:module", kwargs=kwargs)).status_code == 200
