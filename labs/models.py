"""The labs' own learner data: quick picks between held-out candidates.

The over-optimisation lab needs a "gold" reward the learner trusts more than their
six-pick model. When their class is too small for a class model, it is their own
judgement on pairs of held-out candidates, picked on the lab page (a POST each)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from labeling.models import Candidate


class HeldoutPick(models.Model):
    """One comparison of two candidates for the same held-out prompt: `winner` was
    preferred to `loser`. A learner answers each unordered pair at most once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="heldout_picks"
    )
    # The pair, stored in a fixed order (first.pk < second.pk) so that a pair is unique.
    first = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="+")
    first_won = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "first", "second"], name="heldoutpick_one_per_pair"
            ),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="heldoutpick_order"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.first_id} vs {self.second_id}"


class RLVRTaskKind(models.TextChoices):
    """The checkers the RLVR lab knows (labs.rlvr.check)."""

    ARITHMETIC = "arithmetic", "Arithmetic: a op b (params: a, op in + - *, b)"
    WORD_COUNT = "word_count", "Answer in exactly N words (params: words)"
    UNIT_CONVERSION = "unit_conversion", "Unit conversion (params: value, from, to)"


class RLVRTask(models.Model):
    """A checkable task of the RLVR lab: a prompt, the rule its checker applies, and the
    candidate answers of the lab's tiny policy (RLVRAnswer)."""

    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField()
    kind = models.CharField(max_length=20, choices=RLVRTaskKind.choices)
    params = models.JSONField(
        default=dict,
        help_text='What the checker needs, e.g. {"a": 47, "op": "+", "b": 38}, {"words": 5} '
        'or {"value": 2.5, "from": "km", "to": "m"}.',
    )

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = "RLVR task"

    def __str__(self) -> str:
        return self.prompt[:80]

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .rlvr import expected_answer

        try:
            expected_answer(self.kind, self.params if isinstance(self.params, dict) else {})
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError({"params": f"The checker cannot use these: {exc}"}) from exc

    def as_task(self):
        """The pure core's view of this row (answers must be prefetched)."""
        from .rlvr import Answer, Task

        answers = sorted(self.answers.all(), key=lambda a: a.order)
        return Task(
            slug=self.slug,
            prompt=self.prompt,
            kind=self.kind,
            params=dict(self.params),
            answers=tuple(Answer(a.label, a.text, a.ref_prob) for a in answers),
        )


class RLVRAnswer(models.Model):
    """One candidate answer of a task, with its probability under the reference policy.
    Whether it is right is not stored: the checker decides."""

    task = models.ForeignKey(RLVRTask, on_delete=models.CASCADE, related_name="answers")
    order = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=60, help_text="Short name shown in tables.")
    text = models.TextField()
    ref_prob = models.FloatField(
        help_text="Probability under the reference policy; renormalised over the task's answers."
    )

    class Meta:
        ordering = ["task", "order"]
        verbose_name = "RLVR answer"
        constraints = [
            models.UniqueConstraint(fields=["task", "order"], name="rlvranswer_unique_order"),
            models.CheckConstraint(
                condition=Q(ref_prob__gt=0, ref_prob__lte=1), name="rlvranswer_ref_prob_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task.slug} · {self.label}"
