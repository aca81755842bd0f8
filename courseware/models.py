"""Courses, modules and sections; classes and enrolments; per-learner progress."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

# No 0/O, 1/I/L: codes are read off a projector and typed on phones.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 10  # 31**10 ≈ 8e14 codes: not guessable under a login-style rate limit.


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalize_join_code(raw: str) -> str:
    """Accept what people type: lower case, spaces and dashes ("abcd-efgh-jk")."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def format_join_code(code: str) -> str:
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


class Course(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="Markdown.")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courseware:course", kwargs={"course": self.slug})


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    number = models.PositiveSmallIntegerField(help_text="Position in the course: 1, 2, 3 …")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="Markdown.")
    is_published = models.BooleanField(
        default=True, help_text="Unpublished modules are listed as coming soon."
    )

    class Meta:
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="module_unique_slug"),
            models.UniqueConstraint(fields=["course", "number"], name="module_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Module {self.number}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse(
            "courseware:module", kwargs={"course": self.course.slug, "module": self.slug}
        )


class Section(models.Model):
    """One step of a module. `url_name` points at the page that teaches it.

    A section with no url_name is a reading section rendered from `body`.
    Interactive sections (the labeling session, the quiz, …) name their app's view,
    which takes `course` and `module` kwargs and finds its section by `url_name`
    (see `courseware.views.section_context`).
    """

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveSmallIntegerField()
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="Markdown; raw HTML is not rendered.")
    url_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Named URL of the interactive page for this section, e.g. 'labeling:session'.",
    )

    class Meta:
        ordering = ["module", "order"]
        constraints = [
            models.UniqueConstraint(fields=["module", "slug"], name="section_unique_slug"),
            models.UniqueConstraint(fields=["module", "order"], name="section_unique_order"),
            models.UniqueConstraint(
                fields=["module", "url_name"],
                condition=~models.Q(url_name=""),
                name="section_unique_url_name",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        kwargs = {"course": self.module.course.slug, "module": self.module.slug}
        if self.url_name:
            try:
                return reverse(self.url_name, kwargs=kwargs)
            except NoReverseMatch:
                pass  # the app that serves it is not installed: fall back to the reading page
        return reverse("courseware:section", kwargs={**kwargs, "section": self.slug})


class SectionProgress(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="section_progress"
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="progress")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "section"], name="progress_one_per_section"),
        ]
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="progress_user_recent")]
        verbose_name_plural = "section progress"

    def __str__(self) -> str:
        state = "done" if self.done_at else "seen"
        return f"{self.user} · {self.section} · {state}"


class Classroom(models.Model):
    name = models.CharField(max_length=200)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="classrooms")
    join_code = models.CharField(
        max_length=JOIN_CODE_LENGTH,
        unique=True,
        default=new_join_code,
        validators=[RegexValidator(f"^[{JOIN_CODE_ALPHABET}]{{{JOIN_CODE_LENGTH}}}$")],
    )
    join_code_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this moment the code no longer admits students."
    )
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teaching", blank=True
    )
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Enrollment", related_name="classrooms", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "course", name="classroom_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def join_code_display(self) -> str:
        return format_join_code(self.join_code)

    def join_code_is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.join_code_expires_at is None or at < self.join_code_expires_at


class Enrollment(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["classroom", "student"], name="enrollment_once"),
        ]
        indexes = [models.Index(fields=["student", "classroom"], name="enrollment_by_student")]

    def __str__(self) -> str:
        return f"{self.student} in {self.classroom}"
