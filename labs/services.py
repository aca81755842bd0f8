"""The labs' writes: a quick pick between two held-out candidates."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from labeling import catalog

from . import gold
from .models import HeldoutPick


class LabError(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@transaction.atomic
def heldout_pick_record(*, user, first_id: int, second_id: int, winner_id: int) -> HeldoutPick:
    """Record (or change) the learner's pick on one offered pair: an upsert, so a double
    submit leaves one row. Only the lab's own pairs are accepted."""
    key = (min(first_id, second_id), max(first_id, second_id))
    offered = {pair.key for pair in gold.offered_pairs(catalog.heldout_prompts())}
    if key not in offered:
        raise LabError("That pair of answers is not one this lab offers.")
    if winner_id not in key:
        raise LabError("The answer you picked is not one of the pair.")
    pick = HeldoutPick(
        user=user,
        first_id=key[0],
        second_id=key[1],
        first_won=winner_id == key[0],
        created_at=timezone.now(),
    )
    HeldoutPick.objects.bulk_create(
        [pick],
        update_conflicts=True,
        unique_fields=["user", "first", "second"],
        update_fields=["first_won", "created_at"],
    )
    return pick
