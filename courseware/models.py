"""Courses, modules and sections; classes and enrolments; per-learner progress."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
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
    """A paper (or page) the module cites: shown on the page as title + arXiv id, or, for
    a source with no arXiv id (a journal paper, a published web page), title + venue with
    a link."""

    key = models.SlugField(unique=True, help_text="Natural key used by the content file.")
    title = models.CharField(max_length=300)
    authors = models.CharField(max_length=200, blank=True, help_text="e.g. 'Ouyang et al.'")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    arxiv_id = models.CharField(
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^\d{4}\.\d{4,5}$", "An arXiv id looks like 2203.02155.")],
    )
    venue = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where it was published when it has no arXiv id, e.g. 'Biometrika 39 (3/4)'.",
    )
    link = models.URLField(
        blank=True,
        help_text="Address of a source with no arXiv id (a DOI link or the publisher's page).",
    )

    class Meta:
        ordering = ["year", "title"]
        constraints = [
            # A citation the learner cannot follow up is no citation.
            models.CheckConstraint(
                condition=~models.Q(arxiv_id="") | ~models.Q(venue=""),
                name="source_has_arxiv_id_or_venue",
            ),
        ]

    def __str__(self) -> str:
        if self.arxiv_id:
            return f"{self.title} (arXiv {self.arxiv_id})"
        return f"{self.title} ({self.venue})" if self.venue else self.title

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else self.link

    @property
    def citation(self) -> str:
        """How the page names it inline: 'arXiv 2203.02155' or its venue."""
        return f"arXiv {self.arxiv_id}" if self.arxiv_id else self.venue


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


class Provenance(models.TextChoices):
    """Where a sample output shown to the learner comes from. Every one says which."""

    PUBLISHED = "published", "Published output, quoted verbatim"
    WRITTEN = "written", "Written for this course to show what a model at this stage tends to do"


class SampleProvenance(models.Model):
    """A sample output's provenance: published (verbatim, with its source and the model
    that wrote it) or written for the course. Pages show it beside the text."""

    provenance = models.CharField(
        max_length=10,
        choices=Provenance,
        default=Provenance.WRITTEN,
        help_text="Published: quoted verbatim from the source below. Otherwise written for "
        "this course.",
    )
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Required for a published output.",
    )
    attribution = models.CharField(
        max_length=200,
        blank=True,
        help_text="For a published output: the model that wrote it, e.g. 'GPT-3 (175B)'.",
    )

    class Meta:
        abstract = True

    @property
    def is_published(self) -> bool:
        return self.provenance == Provenance.PUBLISHED

    def clean(self) -> None:
        super().clean()
        if self.is_published and self.source_id is None:
            raise ValidationError({"source": "A published output needs its source."})


def provenance_constraints(prefix: str) -> list[models.BaseConstraint]:
    """A published output always names its source; the provenance is one we know."""
    return [
        models.CheckConstraint(
            condition=models.Q(provenance__in=Provenance.values),
            name=f"{prefix}_provenance_valid",
        ),
        models.CheckConstraint(
            condition=~models.Q(provenance=Provenance.PUBLISHED) | models.Q(source__isnull=False),
            name=f"{prefix}_published_has_source",
        ),
    ]


class SFTExample(SampleProvenance):
    """An instruction and a demonstration, beside what a base model wrote for it. The
    provenance fields describe `base_output`; the demonstration is written for the course."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    instruction = models.TextField()
    response = models.TextField(help_text="The demonstration a person wrote.")
    base_output = models.TextField(help_text="What a base model wrote for the same prompt.")
    note = models.TextField(blank=True, help_text="Markdown.")

    class Meta:
        ordering = ["order"]
        verbose_name = "SFT example"
        constraints = provenance_constraints("sftexample")

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


class CompareResponse(SampleProvenance):
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
            *provenance_constraints("compareresponse"),
        ]

    def __str__(self) -> str:
        return f"{self.prompt} · {self.get_stage_display()}"


class RecapRow(models.Model):
    """One row of the closing section's table: a stage with its data, algorithm, what it
    adds, its compute and the people it needs, each cited."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    stage = models.ForeignKey(
        PipelineStage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The walkthrough page the row links to.",
    )
    name = models.CharField(max_length=80, help_text="The stage as the table names it.")
    data = models.TextField(help_text="Markdown: what data, how much.")
    algorithm = models.TextField(help_text="Markdown: the objective or algorithm.")
    adds = models.TextField(help_text="Markdown: what this stage adds to the model.")
    compute = models.TextField(help_text="Markdown: published compute, or that none is published.")
    people = models.TextField(help_text="Markdown: whose work it takes.")
    sources = models.ManyToManyField(Source, blank=True, related_name="recap_rows")

    class Meta:
        ordering = ["order"]
        verbose_name = "closing-table row"

    def __str__(self) -> str:
        return self.name
