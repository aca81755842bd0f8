"""Reads for the course pages and the instructor pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Classroom, Module, Section, SectionProgress
from .services import INSTRUCTOR_GROUP


def is_instructor(user: AbstractBaseUser) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_is_instructor", None)
    if cached is None:
        cached = user.groups.filter(name=INSTRUCTOR_GROUP).exists()
        user._is_instructor = cached
    return cached


def module_get(*, course: str, module: str) -> Module:
    return get_object_or_404(
        Module.objects.select_related("course"), course__slug=course, slug=module
    )


def section_get(
    *, course: str, module: str, section: str | None = None, url_name: str | None = None
) -> Section:
    """A section by slug (reading pages) or by the URL name of the page that serves it."""
    lookup = {"slug": section} if url_name is None else {"url_name": url_name}
    return get_object_or_404(
        Section.objects.select_related("module__course"),
        module__course__slug=course,
        module__slug=module,
        **lookup,
    )


@dataclass(frozen=True)
class OutlineEntry:
    section: Section
    seen: bool
    done: bool


def module_outline(*, module: Module, user: AbstractBaseUser) -> list[OutlineEntry]:
    """The module's sections with this learner's progress, in one query."""
    sections: QuerySet[Section] = module.sections.all()
    if user.is_authenticated:
        mine = SectionProgress.objects.filter(user=user, section=OuterRef("pk"))
        sections = sections.annotate(
            seen=Exists(mine), done=Exists(mine.filter(done_at__isnull=False))
        )
    entries = []
    for section in sections:
        section.module = module  # saves a query per section when building URLs
        entries.append(
            OutlineEntry(
                section=section,
                seen=getattr(section, "seen", False),
                done=getattr(section, "done", False),
            )
        )
    return entries


def outline_neighbours(
    outline: list[OutlineEntry], section: Section
) -> tuple[Section | None, Section | None]:
    ids = [entry.section.pk for entry in outline]
    index = ids.index(section.pk)
    previous = outline[index - 1].section if index > 0 else None
    following = outline[index + 1].section if index + 1 < len(outline) else None
    return previous, following


def resume_section(*, user: AbstractBaseUser, module: Module) -> Section | None:
    """Where a returning learner should land: the section they last opened,
    or the first not yet done if that one is finished, or the first section."""
    outline = module_outline(module=module, user=user)
    if not outline:
        return None
    last = (
        SectionProgress.objects.filter(user=user, section__module=module)
        .order_by("-last_seen_at")
        .values_list("section_id", flat=True)
        .first()
    )
    for entry in outline:
        if entry.section.pk == last and not entry.done:
            return entry.section
    for entry in outline:
        if not entry.done:
            return entry.section
    return outline[-1].section


def module_for_user(*, user: AbstractBaseUser) -> Module | None:
    """The module a learner is working on: the one they touched last, else the
    first published module of the course of their newest class, else any."""
    if user.is_authenticated:
        last = (
            SectionProgress.objects.filter(user=user)
            .order_by("-last_seen_at")
            .values_list("section__module_id", flat=True)
            .first()
        )
        if last:
            return Module.objects.select_related("course").get(pk=last)
        course_id = (
            Classroom.objects.filter(enrollments__student=user)
            .order_by("-enrollments__joined_at")
            .values_list("course_id", flat=True)
            .first()
        )
        if course_id:
            module = (
                Module.objects.select_related("course")
                .filter(course_id=course_id, is_published=True, sections__isnull=False)
                .order_by("-number")
                .first()
            )
            if module:
                return module
    return (
        Module.objects.select_related("course")
        .filter(is_published=True, sections__isnull=False)
        .order_by("-number")
        .first()
    )


def classrooms_taught(*, user: AbstractBaseUser) -> QuerySet[Classroom]:
    classrooms = Classroom.objects.select_related("course")
    if not user.is_superuser:
        classrooms = classrooms.filter(instructors=user)
    return classrooms.annotate(student_count=Count("enrollments", distinct=True)).order_by("name")


def classroom_for_instructor(*, user: AbstractBaseUser, pk: int) -> Classroom:
    """A class its instructor (or an admin) may open; any other class is a 404,
    so that class ids reveal nothing."""
    if not is_instructor(user):
        raise Http404
    classrooms = Classroom.objects.select_related("course")
    if not user.is_superuser:
        classrooms = classrooms.filter(instructors=user)
    return get_object_or_404(classrooms, pk=pk)


def classroom_roster(*, classroom: Classroom) -> QuerySet:
    """Students with sections done and last activity, computed in the database."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    last_seen = (
        SectionProgress.objects.filter(user=OuterRef("pk"))
        .order_by("-last_seen_at")
        .values("last_seen_at")[:1]
    )
    return (
        user_model.objects.filter(enrollments__classroom=classroom)
        .annotate(
            sections_done=Count(
                "section_progress",
                filter=Q(
                    section_progress__done_at__isnull=False,
                    section_progress__section__module__course=classroom.course_id,
                ),
            ),
            last_active=Subquery(last_seen),
        )
        .order_by("username")
    )
