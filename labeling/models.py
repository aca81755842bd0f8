"""Traits, preference pairs, held-out prompts, the constitution; labeling sessions and picks.

Design notes (the instructor class view aggregates over these tables in SQL):

* Trait values live in a validated ``JSONField`` on each response/candidate/principle
  (``{"concise": 0.9, ...}``), not in a trait-value table. They are a short vector that
  is always read whole and never filtered or grouped on: class-level work groups
  *picks* by ``(pair, chosen)`` in SQL (12 groups for six pairs) and multiplies the
  counts by the 12 response vectors in Python. One row per response keeps every page
  at a fixed number of queries without prefetching a third table. ``clean()`` checks
  the keys against the Trait table and the values' range; the reward core reads a
  missing trait as 0 so a trait added later in admin cannot break a page.
* ``Pick`` stores the chosen response's key (``a``/``b``) and, denormalised, whether
  that response was shown on the left, so the per-pair split and the position bias
  of a class are single ``GROUP BY`` queries over one table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from courseware.models import SampleProvenance, provenance_constraints

#: Held-out prompts show 4 to 6 candidates: enough to see a policy move, few
#: enough to read.
MIN_CANDIDATES = 4
MAX_CANDIDATES = 6
#: Reference probabilities are typed by people; this much rounding is forgiven.
PROBABILITY_TOLERANCE = 1e-3


class ResponseKey(models.TextChoices):
    """The two responses of a pair, as stored (independent of where they are shown)."""

    A = "a", "Response A"
    B = "b", "Response B"


class ScreenSide(models.TextChoices):
    """Where a response was shown to the learner."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"


def validate_trait_values(
    values: object,
    *,
    trait_slugs: Iterable[str],
    low: float = 0.0,
    high: float = 1.0,
    field: str = "traits",
) -> None:
    """``values`` must be a ``{trait slug: number in [low, high]}`` mapping."""
    if not isinstance(values, Mapping):
        raise ValidationError({field: 'Enter an object such as {"concise": 0.8}.'})
    known = set(trait_slugs)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationError(
            {field: f"Unknown trait(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}."}
        )
    for slug, value in values.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise ValidationError({field: f"{slug}: enter a number from {low:g} to {high:g}."})


def validate_candidate_probabilities(probabilities: list[float]) -> None:
    """A held-out prompt has 4–6 candidates whose reference probabilities sum to 1."""
    if not MIN_CANDIDATES <= len(probabilities) <= MAX_CANDIDATES:
        raise ValidationError(
            f"A held-out prompt needs {MIN_CANDIDATES} to {MAX_CANDIDATES} candidates; "
            f"it has {len(probabilities)}."
        )
    if any(not (0 < p <= 1) for p in probabilities):
        raise ValidationError("Every reference probability must be above 0 and at most 1.")
    total = math.fsum(probabilities)
    if abs(total - 1) > PROBABILITY_TOLERANCE:
        raise ValidationError(f"Reference probabilities must sum to 1; they sum to {total:.4f}.")


def _trait_slugs() -> list[str]:
    return list(Trait.objects.values_list("slug", flat=True))


class Trait(models.Model):
    slug = models.SlugField(unique=True, help_text="Key used in trait values, e.g. 'concise'.")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=80)
    description = models.TextField(help_text="Plain-language meaning of a high value.")
    phrase = models.CharField(
        max_length=80,
        help_text="Comparative used in tallies: 'You chose the <phrase> answer', e.g. 'more concise'.",
    )

    class Meta:
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.name


class PreferencePair(models.Model):
    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    prompt = models.TextField()
    tests = models.CharField(
        max_length=200, blank=True, help_text="For admins: which trait(s) this pair separates."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive pairs are not labeled.")

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return f"Pair {self.order}: {self.prompt[:60]}"


class Response(models.Model):
    """One of the exactly two responses of a pair (keys a and b)."""

    pair = models.ForeignKey(PreferencePair, on_delete=models.CASCADE, related_name="responses")
    key = models.CharField(max_length=1, choices=ResponseKey.choices)
    text = models.TextField()
    traits = models.JSONField(default=dict, help_text='Trait values from 0 to 1: {"concise": 0.9}')

    class Meta:
        ordering = ["pair", "key"]
        constraints = [
            models.UniqueConstraint(fields=["pair", "key"], name="response_one_per_key"),
            models.CheckConstraint(
                condition=Q(key__in=ResponseKey.values), name="response_key_a_or_b"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pair} · {self.key.upper()}"

    def clean(self) -> None:
        validate_trait_values(self.traits, trait_slugs=_trait_slugs())


class HeldOutPrompt(models.Model):
    """A prompt the learner never labels: where their reward model is put to work."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField()
    note = models.TextField(blank=True, help_text="Markdown shown under the chart.")

    class Meta:
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.prompt[:80]

    def clean(self) -> None:
        if self.pk:
            probabilities = list(self.candidates.values_list("ref_prob", flat=True))
            validate_candidate_probabilities(probabilities)


class Candidate(models.Model):
    prompt = models.ForeignKey(HeldOutPrompt, on_delete=models.CASCADE, related_name="candidates")
    order = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=60, help_text="Short name shown on chart bars.")
    text = models.TextField()
    traits = models.JSONField(default=dict, help_text='Trait values from 0 to 1: {"concise": 0.9}')
    ref_prob = models.FloatField(
        help_text="Probability under the reference (SFT) model; a prompt's candidates sum to 1."
    )

    class Meta:
        ordering = ["prompt", "order"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "order"], name="candidate_unique_order"),
            models.CheckConstraint(
                condition=Q(ref_prob__gt=0, ref_prob__lte=1), name="candidate_ref_prob_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prompt.slug} · {self.label}"

    def clean(self) -> None:
        validate_trait_values(self.traits, trait_slugs=_trait_slugs())


class Principle(models.Model):
    """One principle of the constitution; its weights say which traits it favours."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=80)
    text = models.TextField(help_text="The principle as the AI labeler reads it.")
    weights = models.JSONField(
        default=dict, help_text='Trait weights from -1 to 1: {"refuses": 1, "warm": 0.5}'
    )

    class Meta:
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        validate_trait_values(
            self.weights, trait_slugs=_trait_slugs(), low=-1, high=1, field="weights"
        )


class CritiqueExample(SampleProvenance):
    """One round of Constitutional AI's supervised phase, for one principle: a prompt, a
    helpful-only model's first answer, the critique the principle asks for, and the
    revision. Shown step by step on the critique page; the provenance fields describe the
    model-written texts (the first answer, the critique and the revision)."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    principle = models.OneToOneField(
        Principle,
        on_delete=models.CASCADE,
        related_name="critique",
        help_text="The constitution's principle this round applies (one round per principle).",
    )
    prompt = models.TextField(help_text="The request that invites a harmful answer.")
    first_response = models.TextField(help_text="A helpful-only model's first answer.")
    critique_request = models.TextField(help_text="The principle, put as a request to critique.")
    critique = models.TextField(help_text="The model's critique of its first answer.")
    revision_request = models.TextField(help_text="The principle, put as a request to revise.")
    revision = models.TextField(help_text="The model's revised answer.")
    note = models.TextField(blank=True, help_text="Markdown: what this round shows.")

    class Meta:
        ordering = ["order"]
        constraints = provenance_constraints("critiqueexample")

    def __str__(self) -> str:
        return f"Critique by {self.principle}"


class LabelingSessionQuerySet(models.QuerySet):
    def finished(self) -> LabelingSessionQuerySet:
        return self.filter(finished_at__isnull=False)

    def latest_finished_per_user(self) -> LabelingSessionQuerySet:
        """Each user's most recent finished session: what counts for class statistics."""
        later = LabelingSession.objects.filter(
            user=models.OuterRef("user"),
            finished_at__isnull=False,
            finished_at__gt=models.OuterRef("finished_at"),
        )
        return self.finished().filter(~models.Exists(later))


class LabelingSession(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="labeling_sessions"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = LabelingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(finished_at__isnull=True),
                name="labeling_one_open_session_per_user",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=models.F("started_at")),
                name="labeling_session_finishes_after_start",
            ),
        ]
        indexes = [
            # "this user's latest finished session" and the class view's per-user latest.
            models.Index(fields=["user", "finished_at"], name="labeling_session_user_fin"),
        ]

    def __str__(self) -> str:
        state = "finished" if self.finished_at else "open"
        return f"{self.user} · {self.started_at:%Y-%m-%d %H:%M} · {state}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class SessionPair(models.Model):
    """The pairs of a session, in order, and which response this learner saw on the left."""

    session = models.ForeignKey(LabelingSession, on_delete=models.CASCADE, related_name="shown")
    pair = models.ForeignKey(PreferencePair, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    left = models.CharField(max_length=1, choices=ResponseKey.choices)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "pair"], name="session_pair_once"),
            models.UniqueConstraint(fields=["session", "position"], name="session_pair_position"),
            models.CheckConstraint(
                condition=Q(left__in=ResponseKey.values), name="session_pair_left_a_or_b"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.position} · left={self.left}"

    @property
    def right(self) -> str:
        return ResponseKey.B if self.left == ResponseKey.A else ResponseKey.A

    def key_for_side(self, side: str) -> str:
        return self.left if side == ScreenSide.LEFT else self.right


class Pick(models.Model):
    """The learner's choice on one pair of one session. At most one per (session, pair)."""

    session = models.ForeignKey(LabelingSession, on_delete=models.CASCADE, related_name="picks")
    pair = models.ForeignKey(PreferencePair, on_delete=models.PROTECT, related_name="picks")
    chosen = models.CharField(max_length=1, choices=ResponseKey.choices)
    chosen_left = models.BooleanField(help_text="The chosen response was shown on the left.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "pair__order"]
        constraints = [
            models.UniqueConstraint(fields=["session", "pair"], name="pick_one_per_session_pair"),
            models.CheckConstraint(
                condition=Q(chosen__in=ResponseKey.values), name="pick_chosen_a_or_b"
            ),
        ]
        indexes = [
            # Class view: per-pair split and position bias are GROUP BY pair over picks.
            models.Index(fields=["pair", "chosen"], name="pick_pair_chosen"),
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.pair.slug} → {self.chosen}"

    @property
    def side(self) -> str:
        return ScreenSide.LEFT if self.chosen_left else ScreenSide.RIGHT


class RewardFit(models.Model):
    """A finished session's reward model, fitted once and kept with the learner's record.

    A finished session never changes, so its fit is computed when it finishes and the
    reward profile, policy and RLAIF pages render from this row alone: `items` repeats
    the session's pairs as shown and picked (the session's own rows stay the record),
    `weights` holds one weight vector per prior strength the page offers. `inputs_key`
    names the content the fit was made from (traits and the pairs' trait values); a fit
    under another key is derived again from the picks (labeling.fits).
    """

    session = models.OneToOneField(
        LabelingSession, on_delete=models.CASCADE, primary_key=True, related_name="fit"
    )
    inputs_key = models.CharField(max_length=64)
    items = models.JSONField(help_text="[{pair, position, left, chosen}] in the order shown.")
    weights = models.JSONField(help_text="One list of trait weights per prior strength.")
    profile = models.JSONField(default=dict, help_text="Every figure the profile page shows.")
    policy = models.JSONField(default=dict, help_text="The policy page's tables, per prompt.")
    traits = models.JSONField(help_text="Trait slugs, in the order of the weights.")
    fitted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"fit of {self.session}"


class ClassPickTally(models.Model):
    """How a class's finished labelers picked, per pair and response: what a learner's
    profile shows of their classmates. Refreshed from the picks (one GROUP BY) when a
    classmate finishes a session or the class's roster changes, never on a page view."""

    classroom = models.OneToOneField(
        "courseware.Classroom", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    finished = models.PositiveIntegerField(default=0)
    counts = models.JSONField(
        default=dict,
        help_text='{"finished": learners, "picks": {"<pair id>:<a|b>": learners}}',
    )
    refreshed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"tally of class {self.classroom_id}: {self.finished} finished"
