"""Reads for the course pages and the instructor pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.crypto import salted_hmac

from .models import Classroom, Enrollment, Module, Section, SectionProgress
from .plugins import ClassLink, RosterColumn, app_hooks
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


def classroom_ids(*, user_id: int) -> list[int]:
    """The classes a learner is enrolled in."""
    return list(
        Enrollment.objects.filter(student_id=user_id).values_list("classroom_id", flat=True)
    )


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


def resume_section(
    *, user: AbstractBaseUser, module: Module, outline: list[OutlineEntry] | None = None
) -> Section | None:
    """Where a returning learner should land: the section they last opened,
    or the first not yet done if that one is finished, or the first section.
    Pass the `outline` when the caller has it already (saves a query)."""
    if outline is None:
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


def roster_columns(*, classroom: Classroom) -> list[RosterColumn]:
    """Courseware's own columns, then each app's (see courseware.plugins)."""
    done = (
        SectionProgress.objects.filter(
            user=OuterRef("pk"),
            done_at__isnull=False,
            section__module__course=classroom.course_id,
        )
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_seen = (
        SectionProgress.objects.filter(user=OuterRef("pk"))
        .order_by("-last_seen_at")
        .values("last_seen_at")[:1]
    )
    columns = [
        RosterColumn("sections_done", "Sections done", Coalesce(Subquery(done), 0)),
        RosterColumn("last_active", "Last active", Subquery(last_seen), kind="datetime"),
    ]
    for app, hook in app_hooks("roster_columns"):
        if app != "courseware":
            columns.extend(hook(classroom=classroom))
    return columns


ROSTER_SORTS = {"name": "username", "joined": "joined_at"}


def classroom_roster(
    *,
    classroom: Classroom,
    columns: list[RosterColumn] | None = None,
    sort: str = "name",
    descending: bool = False,
) -> QuerySet:
    """One row per enrolled student with every roster column, in one query.

    Unknown sort keys fall back to the name, so a tampered link cannot break the page.
    """
    from django.contrib.auth import get_user_model

    columns = roster_columns(classroom=classroom) if columns is None else columns
    joined = Enrollment.objects.filter(classroom=classroom, student=OuterRef("pk")).values(
        "joined_at"
    )[:1]
    students = (
        get_user_model()
        .objects.filter(enrollments__classroom=classroom)
        .annotate(joined_at=Subquery(joined), **{c.key: c.expression for c in columns})
    )
    field_name = ROSTER_SORTS.get(sort) or next((c.key for c in columns if c.key == sort), None)
    if field_name is None:
        field_name = "username"
    order = (
        F(field_name).desc(nulls_last=True) if descending else F(field_name).asc(nulls_last=True)
    )
    return students.order_by(order, "pk")


def pseudonym(*, classroom_id: int, user_id: int) -> str:
    """A stable, non-reversible stand-in for a student's name within one class
    (for projecting the roster, and for exports that leave the institution)."""
    digest = salted_hmac(
        "courseware.pseudonym", f"{classroom_id}:{user_id}", algorithm="sha256"
    ).hexdigest()
    return f"Learner-{int(digest[:10], 16) % 10**6:06d}"


def class_links(*, classroom: Classroom) -> list[ClassLink]:
    links = []
    for app, hook in app_hooks("class_links"):
        if app != "courseware":
            links.extend(hook(classroom=classroom))
    return links


def course_section_total(*, course_id: int) -> int:
    return Section.objects.filter(module__course_id=course_id, module__is_published=True).count()
