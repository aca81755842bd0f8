"""Writes for labeling: start a session, record a pick, finish. Keyword-only, atomic."""

from __future__ import annotations

import random

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from courseware.models import Enrollment, Section
from courseware.services import progress_mark_done

from . import fits
from .models import (
    ClassPickTally,
    LabelingSession,
    Pick,
    PreferencePair,
    ResponseKey,
    ScreenSide,
    SessionPair,
)


class LabelingError(ValidationError):
    """A request the learner can be told about in plain words; `status` is the HTTP code."""

    def __init__(self, message: str, *, code: str, status: int = 400) -> None:
        super().__init__(message, code=code)
        self.status = status


def session_start(
    *, user: AbstractBaseUser, rng: random.Random | None = None
) -> tuple[LabelingSession, bool]:
    """The learner's open session, or a new one with a random left/right per pair.

    At most one open session per learner is a database constraint; two tabs racing
    to start both end up with the same session (the loser's insert fails and it
    reads the winner's row).
    """
    existing = LabelingSession.objects.filter(user=user, finished_at__isnull=True).first()
    if existing is not None:
        return existing, False
    # Left/right is a presentation choice, not a secret: the standard PRNG is right here.
    rng = rng or random.Random()  # noqa: S311  # nosec B311
    pairs = list(PreferencePair.objects.filter(is_active=True).order_by("order"))
    if not pairs:
        raise LabelingError(
            "There are no preference pairs to label yet.", code="no_pairs", status=409
        )
    try:
        with transaction.atomic():
            session = LabelingSession.objects.create(user=user)
            SessionPair.objects.bulk_create(
                SessionPair(
                    session=session,
                    pair=pair,
                    position=position,
                    left=rng.choice(ResponseKey.values),
                )
                for position, pair in enumerate(pairs, start=1)
            )
    except IntegrityError:
        return LabelingSession.objects.get(user=user, finished_at__isnull=True), False
    return session, True


@transaction.atomic
def pick_record(*, session: LabelingSession, pair: PreferencePair | int, side: str) -> Pick:
    """Save (or change) the pick on one pair of an open session: one upsert.

    Replays and double clicks update the same row (the unique constraint on
    (session, pair) is the conflict target), so any number of identical submits
    leave exactly one pick. The session row is locked so a pick cannot slip in
    after the session was finished.
    """
    pair_id = pair.pk if isinstance(pair, PreferencePair) else pair
    if side not in ScreenSide.values:
        raise LabelingError("Choose the left or the right response.", code="bad_side", status=400)
    locked = LabelingSession.objects.select_for_update().filter(pk=session.pk).first()
    if locked is None:
        raise LabelingError("That labeling session does not exist.", code="no_session", status=404)
    if locked.is_finished:
        raise LabelingError(
            "This labeling session is finished, so its picks can no longer change. "
            "Start a new session to label again.",
            code="finished",
            status=409,
        )
    shown = SessionPair.objects.filter(session=locked, pair_id=pair_id).first()
    if shown is None:
        raise LabelingError(
            "That pair is not part of your labeling session.", code="not_in_session", status=400
        )
    chosen = shown.key_for_side(side)
    now = timezone.now()
    pick = Pick(
        session=locked,
        pair_id=pair_id,
        chosen=chosen,
        chosen_left=(side == ScreenSide.LEFT),
        created_at=now,
        updated_at=now,
    )
    pick.full_clean(validate_unique=False, validate_constraints=False)
    (saved,) = Pick.objects.bulk_create(
        [pick],
        update_conflicts=True,
        unique_fields=["session", "pair"],
        update_fields=["chosen", "chosen_left", "updated_at"],
    )
    return saved


@transaction.atomic
def session_finish(*, session: LabelingSession, section: Section | None = None) -> LabelingSession:
    """Close a session once every pair has a pick. Finishing twice is harmless."""
    locked = LabelingSession.objects.select_for_update().get(pk=session.pk)
    if not locked.is_finished:
        missing = locked.shown.exclude(pair__picks__session=locked).count()
        if missing:
            noun = "pair" if missing == 1 else "pairs"
            raise LabelingError(
                f"Pick a response on every pair before finishing: {missing} {noun} left.",
                code="incomplete",
                status=409,
            )
        locked.finished_at = timezone.now()
        locked.save(update_fields=["finished_at"])
        # A finished session never changes: its reward model is fitted now, once, and
        # what classmates see of the class is brought up to date.
        fits.fit_store(session=locked)
        class_tally_refresh(
            classroom_ids=Enrollment.objects.filter(student_id=locked.user_id).values_list(
                "classroom_id", flat=True
            )
        )
    if section is not None:
        progress_mark_done(user=locked.user, section=section)
    return locked


#: What classmates see of a class is recounted only when the number of finished labelers
#: reaches a multiple of this: between two versions of the profile's class column at
#: least this many learners' picks change together, so comparing them never isolates
#: one learner (the differencing attack of issue 13).
CLASS_TALLY_STEP = 5


def class_tally_refresh(*, classroom_ids) -> None:
    """Bring each class's stored tally up to date: the live count of finished labelers
    always, the published picks only in steps (CLASS_TALLY_STEP).

    `ClassPickTally.finished` is the live count. `counts` is the published snapshot:
    {"finished": k, "picks": {...}, "as_of": ISO time, "through": [ISO time, session id]}:
    the picks of the k earliest-finished learners (by their latest finished session),
    k the largest multiple of the step not above the live count. It is recounted (one
    GROUP BY) only when k changes, so a learner finishing, re-labelling, joining or
    leaving between two multiples changes nothing classmates can see, and two snapshots
    always differ by at least a step's worth of learners. A class whose count jumps past
    a multiple (a bulk import, the demo) is published all the same. Run when a classmate
    finishes and when a class's roster changes, so profile pages only read the stored row."""
    from courseware.models import Classroom

    from .class_view import class_latest_sessions

    now = timezone.now()
    ids = list(classroom_ids)
    published = {
        tally.classroom_id: tally.counts
        for tally in ClassPickTally.objects.filter(classroom_id__in=ids).only("counts")
    }
    for classroom in Classroom.objects.filter(pk__in=ids):
        sessions = class_latest_sessions(classroom=classroom)
        finished = sessions.count()  # every finish runs this: a count, not the rows
        shown = finished - finished % CLASS_TALLY_STEP
        counts = published.get(classroom.pk) or {}
        if shown != counts.get("finished") or (shown and "through" not in counts):
            # Recounted once per step: the k earliest-finished learners' sessions.
            counted = sorted(sessions.values_list("finished_at", "pk"))[:shown] if shown else []
            rows = (
                Pick.objects.filter(session_id__in=[pk for _, pk in counted])
                .values("pair_id", "chosen")
                .annotate(n=Count("id"))
                .order_by()
                if counted
                else []  # nobody to count
            )
            picks = {f"{row['pair_id']}:{row['chosen']}": row["n"] for row in rows}
            counts = {"finished": shown, "picks": picks, "as_of": now.isoformat()}
            if counted:
                last_at, last_pk = counted[-1]
                counts["through"] = [last_at.isoformat(), last_pk]
        ClassPickTally.objects.bulk_create(
            [
                ClassPickTally(
                    classroom=classroom, finished=finished, counts=counts, refreshed_at=now
                )
            ],
            update_conflicts=True,
            unique_fields=["classroom"],
            update_fields=["finished", "counts", "refreshed_at"],
        )


def roster_changed(*, classroom_ids) -> None:
    """courseware.plugins hook: students joined or left these classes."""
    class_tally_refresh(classroom_ids=classroom_ids)
