"""Reads for the course pages and the instructor pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Count, F, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.crypto import salted_hmac

from .catalog import ModuleContent, course_catalog
from .models import Classroom, Enrollment, Section, SectionProgress
from .plugins import ClassLink, RosterColumn, app_hooks
from .roles import is_instructor


def classroom_ids(*, user_id: int) -> list[int]:
    """The classes a learner is enrolled in."""
    return list(
        Enrollment.objects.filter(student_id=user_id).values_list("classroom_id", flat=True)
    )


@dataclass(frozen=True)
class OutlineEntry:
    section: Section
    seen: bool
    done: bool


def module_outline(*, content: ModuleContent, user: AbstractBaseUser) -> list[OutlineEntry]:
    """The module's sections with this learner's progress: one query, written out (every
    section page runs it; the ORM took longer to build it than PostgreSQL to answer)."""
    progress: dict[int, bool] = {}
    if user.is_authenticated and content.sections:
        table = SectionProgress._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT section_id, done_at IS NOT NULL FROM {table}"  # noqa: S608  # nosec B608
                f" WHERE user_id = %s AND section_id IN ({', '.join(['%s'] * len(content.sections))})",
                [user.pk, *(s.pk for s in content.sections)],
            )
            progress = dict(cursor.fetchall())
    return [
        OutlineEntry(
            section=section, seen=section.pk in progress, done=progress.get(section.pk, False)
        )
        for section in content.sections
    ]


def outline_neighbours(
    outline: list[OutlineEntry], section: Section
) -> tuple[Section | None, Section | None]:
    ids = [entry.section.pk for entry in outline]
    index = ids.index(section.pk)
    previous = outline[index - 1].section if index > 0 else None
    following = outline[index + 1].section if index + 1 < len(outline) else None
    return previous, following


def resume_section(outline: list[OutlineEntry]) -> Section | None:
    """Where a returning learner should land: the first section not yet done (the last
    section once all are done)."""
    for entry in outline:
        if not entry.done:
            return entry.section
    return outline[-1].section if outline else None


def module_for_user(*, user: AbstractBaseUser) -> ModuleContent | None:
    """The module a learner is working on: the one of the section they opened or finished
    last, else the first published module of the course of their newest class, else the
    first published module of any course."""
    catalog = course_catalog()
    by_id = {entry.module.pk: entry for entry in catalog.modules.values()}
    candidates = [e for e in by_id.values() if e.module.is_published and e.sections]
    if user.is_authenticated:
        touched = (
            SectionProgress.objects.filter(user=user)
            .annotate(last=Greatest("first_seen_at", Coalesce("done_at", "first_seen_at")))
            .order_by("-last")
            .values_list("section__module_id", flat=True)
            .first()
        )
        if touched in by_id:
            return by_id[touched]
        course_id = (
            Enrollment.objects.filter(student=user)
            .order_by("-joined_at")
            .values_list("classroom__course_id", flat=True)
            .first()
        )
        mine = [e for e in candidates if e.module.course_id == course_id]
        if mine:
            return min(mine, key=lambda e: e.module.number)
    return min(candidates, key=lambda e: (e.module.course_id, e.module.number), default=None)


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
        .order_by()
        .values("user")
        .annotate(last=Max(Greatest("first_seen_at", Coalesce("done_at", "first_seen_at"))))
        .values("last")
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
