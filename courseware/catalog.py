"""Courseware's content, one accessor per kind, kept in process memory per content
version (see `courseware.content`). Each rebuild costs a fixed number of queries; a
request in between costs none beyond the version check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import Http404

from .content import content_accessor
from .models import (
    ComparePrompt,
    CompareResponse,
    Course,
    Figure,
    Module,
    PipelineStage,
    RecapRow,
    Section,
    SFTExample,
    Source,
    TeachingText,
)


@dataclass
class ModuleContent:
    """A module with its sections in order; URLs computed once."""

    module: Module
    sections: list[Section]
    next_module: Module | None = None
    by_slug: dict[str, Section] = field(default_factory=dict)
    by_url_name: dict[str, Section] = field(default_factory=dict)

    def section(self, *, slug: str | None = None, url_name: str | None = None) -> Section:
        found = self.by_slug.get(slug) if url_name is None else self.by_url_name.get(url_name)
        if found is None:
            raise Http404("No such section.")
        return found


@dataclass
class CourseCatalog:
    courses: list[Course]
    modules: dict[tuple[str, str], ModuleContent]

    def course(self, slug: str) -> Course:
        for course in self.courses:
            if course.slug == slug:
                return course
        raise Http404("No such course.")

    def module(self, course: str, module: str) -> ModuleContent:
        found = self.modules.get((course, module))
        if found is None:
            raise Http404("No such module.")
        return found


@content_accessor
def course_catalog() -> CourseCatalog:
    """Every course, module and section: three queries per content version."""
    courses = list(Course.objects.all())
    by_id = {course.pk: course for course in courses}
    for course in courses:
        course.module_list = []
    modules: dict[tuple[str, str], ModuleContent] = {}
    by_module_id: dict[int, ModuleContent] = {}
    for module in Module.objects.order_by("course_id", "number"):
        module.course = by_id[module.course_id]
        module.course.module_list.append(module)
        entry = ModuleContent(module=module, sections=[])
        modules[module.course.slug, module.slug] = entry
        by_module_id[module.pk] = entry
    for section in Section.objects.order_by("module_id", "order"):
        entry = by_module_id[section.module_id]
        section.module = entry.module
        entry.sections.append(section)
        entry.by_slug[section.slug] = section
        if section.url_name:
            entry.by_url_name[section.url_name] = section
    for course in courses:
        for current, following in zip(course.module_list, course.module_list[1:], strict=False):
            modules[course.slug, current.slug].next_module = following
    # Compute every URL now, once, rather than on every page that links them.
    for entry in modules.values():
        for obj in (entry.module, entry.module.course, *entry.sections):
            obj.url  # noqa: B018
    return CourseCatalog(courses=courses, modules=modules)


@content_accessor
def teaching_texts() -> dict[str, TeachingText]:
    """Every lesson text block by key: one query."""
    return {text.key: text for text in TeachingText.objects.all()}


def texts(*keys: str) -> dict[str, TeachingText]:
    """The named blocks, keyed for templates ('sft-intro' → 'sft_intro'); a missing block
    is just absent."""
    every = teaching_texts()
    return {key.replace("-", "_"): every[key] for key in keys if key in every}


@content_accessor
def sources() -> dict[str, Source]:
    return {source.key: source for source in Source.objects.all()}


def sources_by_key(*keys: str) -> list[Source]:
    """Sources named by key, oldest first."""
    every = sources()
    return sorted(
        (every[key] for key in keys if key in every), key=lambda s: (s.year or 0, s.title)
    )


@content_accessor
def pipeline_stages() -> list[PipelineStage]:
    """Every stage in order, with its sources: two queries."""
    return list(PipelineStage.objects.prefetch_related("sources"))


@content_accessor
def figures() -> dict[str, list[Figure]]:
    """Published figures by group, each with its source: one query."""
    grouped: dict[str, list[Figure]] = {}
    for figure in Figure.objects.select_related("source"):
        grouped.setdefault(figure.group, []).append(figure)
    return grouped


@content_accessor
def sft_examples() -> list[SFTExample]:
    """Examples in order, each with the source of its base output: one query."""
    return list(SFTExample.objects.select_related("source"))


@content_accessor
def compare_prompts() -> list[ComparePrompt]:
    """Prompts in order, each with its responses and their sources: two queries."""
    prompts = list(
        ComparePrompt.objects.prefetch_related(
            Prefetch("responses", queryset=CompareResponse.objects.select_related("source"))
        )
    )
    for prompt in prompts:
        for response in prompt.responses.all():
            response.prompt = prompt
    return prompts


@content_accessor
def recap_rows() -> list[RecapRow]:
    """The closing table's rows in order, each with its stage and sources: two queries."""
    return list(RecapRow.objects.select_related("stage").prefetch_related("sources"))
