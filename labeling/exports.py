"""Preference data as files: a learner's own picks, and a class's for its instructors,
in Hugging Face TRL's conversational preference format (JSONL) and as CSV."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F

from courseware.models import Classroom
from courseware.selectors import pseudonym

from . import catalog
from .class_view import class_picks
from .models import LabelingSession, ResponseKey
from .sessions import session_state


def preference_record(prompt: str, chosen: str, rejected: str) -> dict:
    """One pick in TRL's conversational preference format (explicit prompt)."""
    return {
        "prompt": [{"role": "user", "content": prompt}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


def preference_records(*, session: LabelingSession) -> list[dict]:
    """The learner's picks in TRL's conversational preference format (explicit prompt)."""
    state = session_state(session=session)
    return [
        preference_record(item.pair.prompt, item.chosen.text, item.rejected.text)
        for item in state.items
        if item.picked_side
    ]


def session_for_export(*, user: AbstractBaseUser) -> LabelingSession | None:
    """The latest finished session, else the open one (its picks so far): one query."""
    return (
        LabelingSession.objects.filter(user=user)
        .order_by(F("finished_at").desc(nulls_last=True), "-started_at")
        .first()
    )


def _pair_texts() -> dict[int, tuple[str, dict[str, str]]]:
    """pair id -> (prompt, {key: response text})."""
    return {
        pk: (p.pair.prompt, {key: r.text for key, r in p.responses.items()})
        for pk, p in catalog.pairs().items()
    }


def class_preference_records(*, classroom: Classroom, chunk_size: int = 2000) -> Iterator[dict]:
    """The class's picks as TRL conversational preference records, read in chunks
    from a server-side cursor (a class of 10,000 is never in memory at once)."""
    texts = _pair_texts()
    picks = (
        class_picks(classroom=classroom)
        .order_by("session_id", "pair__order")
        .values_list("pair_id", "chosen")
    )
    for pair_id, chosen in picks.iterator(chunk_size=chunk_size):
        prompt, responses = texts[pair_id]
        rejected = ResponseKey.B if chosen == ResponseKey.A else ResponseKey.A
        yield preference_record(prompt, responses[chosen], responses[rejected])


CLASS_CSV_HEADER = ["student", "pair", "chosen", "shown_left"]


def class_preference_rows(*, classroom: Classroom, chunk_size: int = 2000) -> Iterator[list]:
    """CSV rows: student pseudonym (never the username), pair, chosen, the response
    shown on the left. One query, streamed."""
    yield CLASS_CSV_HEADER
    picks = (
        class_picks(classroom=classroom)
        .order_by("session__user_id", "pair__order")
        .values_list("session__user_id", "pair__slug", "chosen", "chosen_left")
    )
    names: dict[int, str] = {}
    for user_id, pair_slug, chosen, chosen_left in picks.iterator(chunk_size=chunk_size):
        if user_id not in names:
            names.clear()  # rows come grouped by student: keep one name at a time
            names[user_id] = pseudonym(classroom_id=classroom.pk, user_id=user_id)
        other = ResponseKey.B if chosen == ResponseKey.A else ResponseKey.A
        yield [names[user_id], pair_slug, chosen, chosen if chosen_left else other]
