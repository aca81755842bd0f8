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
