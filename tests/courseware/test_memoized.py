"""Per-process memos on the page path: same answer as without them, never stale."""

from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from courseware import markdown
from courseware.models import Section


def test_markdown_parses_a_text_once_and_an_edited_text_anew(monkeypatch):
    markdown._render.cache_clear()
    real = markdown._renderer()
    parsed = []

    class Counting:
        def render(self, text):
            parsed.append(text)
            return real.render(text)

    monkeypatch.setattr(markdown, "_renderer", lambda: Counting())

    first = markdown.render_markdown("Some **bold** words.")
    again = markdown.render_markdown("Some **bold** words.")
    edited = markdown.render_markdown("Some *edited* words.")

    assert first == again == "<p>Some <strong>bold</strong> words.</p>\n"
    assert edited == "<p>Some <em>edited</em> words.</p>\n"
    assert parsed == ["Some **bold** words.", "Some *edited* words."]


def test_markdown_of_nothing_is_empty():
    assert markdown.render_markdown(None) == ""


@pytest.mark.django_db
def test_section_url_follows_an_edit_of_its_slug_or_page(content):
    kwargs = {"course": content.course.slug, "module": content.slug}
    section = Section.objects.get(module=content, url_name="labeling:session")
    assert section.get_absolute_url() == reverse("labeling:session", kwargs=kwargs)

    section.url_name = ""
    section.slug = "renamed"
    assert section.get_absolute_url() == reverse(
        "courseware:section", kwargs={**kwargs, "section": "renamed"}
    )

    section.url_name = "nowhere:page"  # not installed: the reading page
    assert section.get_absolute_url().endswith("/renamed/")


@pytest.mark.django_db
def test_section_url_carries_the_script_prefix_it_is_built_under(content):
    section = Section.objects.get(module=content, url_name="quiz:quiz")
    plain = section.get_absolute_url()
    set_script_prefix("/school/")
    try:
        prefixed = section.get_absolute_url()
    finally:
        set_script_prefix("/")
    assert prefixed == "/school" + plain
    assert section.get_absolute_url() == plain
