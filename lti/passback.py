"""Grade passback (LTI Assignment and Grade Services) through an outbox.

When the quiz grades an attempt, `attempt_graded` writes one ScoreOutbox row per LMS link
the score belongs to, inside the grading transaction: a graded attempt always has its
rows, and the (attempt, link) constraint means it never has two. After the commit the
rows are sent; a row the platform did not accept stays pending with a growing delay and
is sent again by `manage.py lti_send_scores` and on the learner's next launch.

No lock is held while the platform is called. A sender first claims rows in a short
transaction (SELECT … FOR UPDATE SKIP LOCKED, then status `sending` with a claim token
and a deadline), commits, posts each score, then settles each row only if its claim is
still the row's. Two senders (the command and a launch) never claim the same row; a
sender that dies leaves its rows `sending` until the deadline, when another takes them.

Each row carries the attempt's score and its own timestamp (the grading time). The one
case no outbox closes: the platform stores a score and its answer is lost (or the sender
dies before settling), so the row is posted again with the same value and timestamp. AGS
platforms record a result once per (user, line item, timestamp): "the platform MUST NOT
update a result if the last timestamp on record is later than the incoming score"
(AGS 2.0, score publish service), and some answer the repeat 409 Conflict, which counts
here as recorded. So delivery is at least once and what the gradebook records is once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from requests import RequestException

from courseware.catalog import course_catalog
from courseware.models import SectionProgress

from . import adapters
from .claims import backoff_seconds, is_transient
from .models import Membership, ResourceLink, ScoreOutbox

logger = logging.getLogger(__name__)

QUIZ_URL_NAME = "quiz:quiz"
# Sending right after a quiz submit (or during a launch) must not keep the learner
# waiting on an LMS that is down: a short timeout, the outbox does the rest.
INLINE_TIMEOUT_SECONDS = 3
INLINE_LIMIT = 5
# A claim outlives every call one send may make (token, line item lookup and creation,
# score) timing out, plus this margin; then another sender may take the row.
CALLS_PER_SEND = 4
CLAIM_MARGIN_SECONDS = 30
CONFLICT = 409


def attempt_graded(*, attempt) -> list[int]:
    """Queue the learner's best score for every LMS link that grades this quiz.

    Called by quiz.services.attempt_submit inside its transaction, once per graded
    attempt. Costs one query for a learner who never came from an LMS."""
    quiz = attempt.quiz
    memberships = list(
        Membership.objects.filter(
            lti_user__user_id=attempt.user_id,
            is_instructor=False,
            context__resource_links__module_id=quiz.module_id,
        )
        .values_list("context_id", "lti_user_id")
        .distinct()
    )
    if not memberships:
        return []
    links = ResourceLink.objects.filter(
        Q(section__isnull=True) | Q(section__url_name=QUIZ_URL_NAME),
        context_id__in={context_id for context_id, _ in memberships},
        module_id=quiz.module_id,
    ).values_list("pk", "context_id")
    lti_user_of = dict(memberships)
    from quiz.models import Attempt

    best = (
        Attempt.objects.submitted()
        .filter(user_id=attempt.user_id, quiz=quiz)
        .aggregate(best=Max("score"))["best"]
    )
    rows = [
        ScoreOutbox(
            attempt=attempt,
            resource_link_id=link_id,
            lti_user_id=lti_user_of[context_id],
            score_given=float(best if best is not None else attempt.score),
            score_maximum=float(quiz.questions_per_attempt),
            activity_progress=_activity_progress(user_id=attempt.user_id, module_id=quiz.module_id),
            graded_at=attempt.submitted_at,
        )
        for link_id, context_id in links
    ]
    if not rows:
        return []
    ScoreOutbox.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        ScoreOutbox.objects.filter(attempt=attempt, status=ScoreOutbox.Status.PENDING).values_list(
            "pk", flat=True
        )
    )
    transaction.on_commit(lambda: send_quietly(ids=ids))
    return ids


def _activity_progress(*, user_id: int, module_id: int) -> str:
    """Completed once every section of the module is done (module completion), else
    Submitted (the quiz is graded, the module not finished)."""
    sections = next(
        (e.sections for e in course_catalog().modules.values() if e.module.pk == module_id), []
    )
    done = SectionProgress.objects.filter(
        user_id=user_id, section_id__in=[s.pk for s in sections], done_at__isnull=False
    ).count()
    return "Completed" if sections and done >= len(sections) else "Submitted"


@dataclass
class SendReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0


def send_quietly(*, ids: Iterable[int] | None = None, user=None) -> SendReport:
    """Send after a submit, or during a launch (the LMS is evidently up: a learner's
    waiting rows go now, whatever their delay). Never fails the request it runs in."""
    try:
        return send_due(
            ids=ids,
            user=user,
            timeout=INLINE_TIMEOUT_SECONDS,
            limit=INLINE_LIMIT,
            ignore_delay=user is not None,
        )
    except Exception:  # noqa: BLE001 - the outbox keeps the rows; log and move on
        logger.exception("Sending scores to the LMS failed; they stay queued.")
        return SendReport()


def claim_seconds(timeout: float) -> float:
    """How long a claim holds: every call a send may make (access token, line item
    lookup and creation, the score) timing out, and a margin."""
    return CALLS_PER_SEND * timeout + CLAIM_MARGIN_SECONDS


def claim_due(
    *,
    ids: Iterable[int] | None = None,
    user=None,
    timeout: float = adapters.HTTP_TIMEOUT_SECONDS,
    limit: int | None = None,
    ignore_delay: bool = False,
) -> tuple[str, list[int]]:
    """Claim the rows due for sending: pending ones (all of `ids`, or a user's, or every
    one whose next try has come) and those whose claim has lapsed. Rows another sender
    is claiming right now are skipped, not waited for. Two queries in one transaction."""
    now = timezone.now()
    pending = Q(status=ScoreOutbox.Status.PENDING)
    if ids is None and not ignore_delay:
        pending &= Q(next_try_at__lte=now)
    lapsed = Q(status=ScoreOutbox.Status.SENDING, claimed_until__lte=now)
    due = ScoreOutbox.objects.filter(pending | lapsed)
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    if user is not None:
        due = due.filter(lti_user__user=user)
    token = uuid.uuid4().hex
    with transaction.atomic():
        pks = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .order_by("next_try_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if pks:
            ScoreOutbox.objects.filter(pk__in=pks).update(
                status=ScoreOutbox.Status.SENDING,
                claim=token,
                claimed_until=now + timedelta(seconds=claim_seconds(timeout)),
            )
    return token, pks


def send_due(
    *,
    ids: Iterable[int] | None = None,
    user=None,
    timeout: float = adapters.HTTP_TIMEOUT_SECONDS,
    limit: int | None = None,
    ignore_delay: bool = False,
) -> SendReport:
    """Claim the rows that are due, then post each one with no lock held."""
    token, pks = claim_due(
        ids=ids, user=user, timeout=timeout, limit=limit, ignore_delay=ignore_delay
    )
    report = SendReport()
    if not pks:
        return report
    rows = (
        ScoreOutbox.objects.filter(pk__in=pks, claim=token)
        .select_related(
            "resource_link__context__platform", "resource_link__module__course", "lti_user"
        )
        .order_by("next_try_at", "pk")
    )
    for row in rows:
        outcome = send_claimed(row=row, timeout=timeout)
        if outcome == ScoreOutbox.Status.SENT:
            report.sent += 1
        elif outcome == ScoreOutbox.Status.FAILED:
            report.failed += 1
        elif outcome == ScoreOutbox.Status.PENDING:
            report.retry += 1
    return report


def send_claimed(*, row: ScoreOutbox, timeout: float) -> str | None:
    """Post one claimed row's score (no transaction, no lock), then settle the row if
    the claim is still ours. None when it is not (the claim lapsed and another sender
    took the row: it settles it)."""
    error: Exception | None = None
    try:
        _post(row, timeout=timeout)
    except (LtiException, RequestException, ValueError, KeyError) as exc:
        error = exc
    now = timezone.now()
    settle: dict = {"tries": F("tries") + 1, "claim": "", "claimed_until": None}
    if error is None:
        status = ScoreOutbox.Status.SENT
        settle |= {"sent_at": now, "last_error": ""}
    else:
        response = getattr(error, "response", None)
        code = getattr(response, "status_code", None)
        if code == CONFLICT and _is_score_post(response):
            # The platform has a result with this timestamp or a later one: this score
            # (or a better one) is recorded.
            status = ScoreOutbox.Status.SENT
            settle |= {"sent_at": now, "last_error": "The LMS already had this score (409)."}
        elif is_transient(code):
            status = ScoreOutbox.Status.PENDING
            settle |= {
                "last_error": _describe(error, code)[:500],
                "next_try_at": now + timedelta(seconds=backoff_seconds(row.tries + 1)),
            }
        else:
            status = ScoreOutbox.Status.FAILED
            settle |= {"last_error": _describe(error, code)[:500]}
    settled = ScoreOutbox.objects.filter(
        pk=row.pk, status=ScoreOutbox.Status.SENDING, claim=row.claim
    ).update(status=status, **settle)
    if not settled:
        logger.warning("Score %s was settled by another sender; its claim had lapsed.", row.pk)
        return None
    return status


def _is_score_post(response) -> bool:
    url = getattr(response, "url", "") or ""
    return urlsplit(url).path.rstrip("/").endswith("/scores")


def _describe(exc: Exception, status: int | None) -> str:
    if status is not None:
        return f"The LMS answered {status}."
    if isinstance(exc, RequestException):
        return f"The LMS did not answer ({exc.__class__.__name__})."
    return f"Could not send: {exc}"


def _post(row: ScoreOutbox, *, timeout: float) -> None:
    link = row.resource_link
    platform = link.context.platform
    service = AssignmentsGradesService(
        adapters.service_connector(platform, timeout=timeout),
        {
            "scope": list(link.ags_scopes),
            "lineitems": link.lineitems_url or None,
            "lineitem": link.lineitem_url or None,
        },
    )
    if not link.lineitem_url:
        link.lineitem_url = _create_lineitem(service, link, row.score_maximum)
        ResourceLink.objects.filter(pk=link.pk).update(lineitem_url=link.lineitem_url)
    grade = (
        Grade()
        .set_score_given(row.score_given)
        .set_score_maximum(row.score_maximum)
        .set_activity_progress(row.activity_progress)
        .set_grading_progress("FullyGraded")
        .set_timestamp(row.graded_at.isoformat(timespec="milliseconds"))
        .set_user_id(row.lti_user.sub)
    )
    service.put_grade(grade, LineItem({"id": link.lineitem_url}))


def _create_lineitem(service: AssignmentsGradesService, link: ResourceLink, maximum: float) -> str:
    """A gradebook column for a link whose launch named none (the tool's own)."""
    wanted = (
        LineItem()
        .set_tag("quiz")
        .set_resource_link_id(link.resource_link_id)
        .set_resource_id(f"{link.module.course.slug}/{link.module.slug}/quiz")
        .set_label(f"{link.title or link.module.title}: quiz")
        .set_score_maximum(maximum)
    )
    found = service.find_or_create_lineitem(
        wanted,
        condition=lambda item: (
            item.get("resourceLinkId") == link.resource_link_id and item.get("tag") == "quiz"
        ),
    )
    if not found.get_id():
        raise LtiException("The LMS made a gradebook column without an id.")
    return found.get_id()
