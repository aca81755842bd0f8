"""Courses, modules and sections; classes and enrolments; per-learner progress."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property

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

    @cached_property
    def url(self) -> str:
        """The URL, computed once per instance (the catalog keeps instances per version)."""
        return self.get_absolute_url()


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

    @cached_property
    def url(self) -> str:
        """The URL, computed once per instance (the catalog keeps instances per version)."""
        return self.get_absolute_url()


def section_path(*, url_name: str, course: str, module: str, section: str) -> str:
    """A section's URL: its app's page when it names one, else the reading page."""
    kwargs = {"course": course, "module": module}
    if url_name:
        try:
            return reverse(url_name, kwargs=kwargs)
        except NoReverseMatch:
            pass  # the app that serves it is not installed: fall back to the reading page
    return reverse("courseware:section", kwargs={**kwargs, "section": section})


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
        # Pages read sections from the content catalog, where the URL is computed once
        # per content version (`courseware.catalog`); this is for admin and the shell.
        return section_path(
            url_name=self.url_name,
            course=self.module.course.slug,
            module=self.module.slug,
            section=self.slug,
        )

    @cached_property
    def url(self) -> str:
        """The URL, computed once per instance (the catalog keeps instances per version)."""
        return self.get_absolute_url()


class SectionProgress(models.Model):
    """A learner's first view of a section (written once, by that GET) and when they
    finished it (a POST). Nothing here changes on later views."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="section_progress"
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="progress")
    first_seen_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "section"], name="progress_one_per_section"),
        ]
        verbose_name_plural = "section progress"

    def __str__(self) -> str:
        state = "done" if self.done_at else "seen"
        return f"{self.user} · {self.section} · {state}"


class ContentVersion(models.Model):
    """One row: a random token that every change of course content replaces
    (`courseware.content`). Pages keep content in process memory under it."""

    SINGLETON = 1

    token = models.BigIntegerField()

    def __str__(self) -> str:
        return f"content version {self.token}"


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


# -- Teaching content (the module's pages: pipeline, pre-training, SFT, comparison) --------------


class Source(models.Model):
    """A paper the module cites. Shown on the page as title + arXiv id."""

    key = models.SlugField(unique=True, help_text="Natural key used by the content file.")
    title = models.CharField(max_length=300)
    authors = models.CharField(max_length=200, blank=True, help_text="e.g. 'Ouyang et al.'")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    arxiv_id = models.CharField(
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^\d{4}\.\d{4,5}$", "An arXiv id looks like 2203.02155.")],
    )

    class Meta:
        ordering = ["year", "title"]

    def __str__(self) -> str:
        return f"{self.title} (arXiv {self.arxiv_id})" if self.arxiv_id else self.title

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""


class TeachingText(models.Model):
    """A block of lesson text that a page shows by key (intro, explanations)."""

    key = models.SlugField(unique=True)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(help_text="Markdown; raw HTML is not rendered.")

    class Meta:
        ordering = ["key"]
        verbose_name = "teaching text"

    def __str__(self) -> str:
        return self.title or self.key


class PipelineStage(models.Model):
    """One stage of the training pipeline, with its own page in the walkthrough."""

    class Group(models.TextChoices):
        CLASSIC = "classic", "The classic pipeline"
        MODERN = "modern", "The modern recipe"

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    group = models.CharField(max_length=10, choices=Group, default=Group.CLASSIC)
    title = models.CharField(max_length=120)
    short_title = models.CharField(max_length=40, help_text="Label in the pipeline diagram.")
    summary = models.CharField(max_length=300)
    takes_in = models.TextField(help_text="Markdown.")
    gives_out = models.TextField(help_text="Markdown.")
    objective = models.TextField(help_text="Markdown. Put the equation in a code block.")
    objective_words = models.TextField(
        blank=True, help_text="Markdown. The objective read aloud in words."
    )
    data_scale = models.TextField(help_text="Markdown: what data, how much.")
    adds = models.TextField(help_text="Markdown: what this stage adds.")
    cannot = models.TextField(help_text="Markdown: what this stage cannot do.")
    body = models.TextField(blank=True, help_text="Markdown: anything else worth saying.")
    sources = models.ManyToManyField(Source, blank=True, related_name="stages")

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.title


class Figure(models.Model):
    """A published number the module shows, with its source (compute, data scale)."""

    class Group(models.TextChoices):
        COMPUTE = "compute", "Training compute (petaflop/s-days)"
        SFT_DATA = "sft-data", "SFT data set sizes"

    key = models.SlugField(unique=True)
    group = models.CharField(max_length=20, choices=Group)
    order = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=200)
    value = models.FloatField(help_text="The number itself, used for bars and ratios.")
    display = models.CharField(max_length=60, help_text="How the number is written, e.g. '~13k'.")
    note = models.CharField(max_length=300, blank=True)
    is_baseline = models.BooleanField(
        default=False, help_text="Compute: the figure the others are compared with."
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="figures")

    class Meta:
        ordering = ["group", "order"]

    def __str__(self) -> str:
        return f"{self.label}: {self.display}"


class SFTExample(models.Model):
    """An instruction and a demonstration, beside what the base model wrote."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    instruction = models.TextField()
    response = models.TextField(help_text="The demonstration a person wrote.")
    base_output = models.TextField(help_text="What a base model wrote for the same prompt.")
    note = models.TextField(blank=True, help_text="Markdown.")

    class Meta:
        ordering = ["order"]
        verbose_name = "SFT example"

    def __str__(self) -> str:
        return self.instruction[:80]


class ComparePrompt(models.Model):
    """A prompt of the stage-comparison viewer; its responses are CompareResponses."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=80, help_text="Short label for the prompt picker.")
    prompt = models.TextField()
    lesson = models.TextField(blank=True, help_text="Markdown: what this prompt shows.")

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.title


class Stage(models.TextChoices):
    """The three models of the comparison viewer."""

    BASE = "base", "Base model"
    SFT = "sft", "SFT model"
    RLHF = "rlhf", "RLHF model"


class CompareResponse(models.Model):
    prompt = models.ForeignKey(ComparePrompt, on_delete=models.CASCADE, related_name="responses")
    stage = models.CharField(max_length=10, choices=Stage)
    text = models.TextField()
    note = models.TextField(help_text="Markdown: what this response shows about its stage.")

    class Meta:
        ordering = ["prompt", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "stage"], name="compare_one_per_stage"),
            models.CheckConstraint(
                condition=models.Q(stage__in=["base", "sft", "rlhf"]),
                name="compare_stage_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prompt} · {self.get_stage_display()}"
