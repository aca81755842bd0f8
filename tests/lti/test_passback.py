"""Grade passback: each graded attempt's best score is recorded by the LMS exactly once.

Delivery is at least once (a score whose answer was lost is posted again, with the same
value and timestamp); the test LMS's gradebook records a (user, line item, timestamp)
once, as AGS platforms must, and `lms.recorded` is what it recorded."""

from __future__ import annotations

import io
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from lti import passback
from lti.models import LtiUser, ResourceLink, ScoreOutbox
from quiz import services as quiz_services
from quiz.models import Attempt, Quiz
from tests.lti.conftest import launch
from tests.quiz.conftest import form_with

CUSTOM = {"course": "language-models", "module": "post-training"}
QUIZ_KWARGS = {"course": "language-models", "module": "post-training"}


def take_quiz(client, capture, *, right: int) -> Attempt:
    """Start and submit an attempt through the pages, running what follows the commit."""
    start = client.post(reverse("quiz:start", kwargs=QUIZ_KWARGS))
    assert start.status_code == 302
    attempt = Attempt.objects.get(submitted_at__isnull=True)
    with capture(execute=True):
        response = client.post(
            reverse("quiz:submit", kwargs=QUIZ_KWARGS | {"pk": attempt.pk}),
            form_with(attempt, right),
        )
    assert response.status_code == 302
    attempt.refresh_from_db()
    return attempt


def test_a_graded_attempt_reaches_the_line_item_once(
    launched_student, lms, django_capture_on_commit_callbacks
):
    attempt = take_quiz(launched_student, django_capture_on_commit_callbacks, right=4)
    assert len(lms.scores) == 1
    score = lms.scores[0]
    assert score["lineitem"] == lms.lineitem_url(1)
    assert (score["scoreGiven"], score["scoreMaximum"]) == (4, 5)
    assert score["userId"] == "student-1"
    assert score["gradingProgress"] == "FullyGraded"
    assert score["timestamp"].startswith(attempt.submitted_at.date().isoformat())
    assert lms.recorded == lms.scores
    row = ScoreOutbox.objects.get(attempt=attempt)
    assert row.status == ScoreOutbox.Status.SENT and row.sent_at is not None
    assert row.claim == "" and row.claimed_until is None
    # A replayed submit shows the same result and sends nothing more.
    url = reverse("quiz:submit", kwargs=QUIZ_KWARGS | {"pk": attempt.pk})
    with django_capture_on_commit_callbacks(execute=True):
        assert launched_student.post(url, form_with(attempt, 5)).status_code == 302
    call_command("lti_send_scores", "--now", stdout=io.StringIO())
    assert len(lms.scores) == 1
    page = launched_student.get(reverse("lti:grades"))
    assert "Reached Test LMS" in page.text


def test_the_best_score_is_sent_not_the_latest(
    launched_student, lms, django_capture_on_commit_callbacks
):
    take_quiz(launched_student, django_capture_on_commit_callbacks, right=4)
    take_quiz(launched_student, django_capture_on_commit_callbacks, right=2)
    assert [s["scoreGiven"] for s in lms.scores] == [4, 4]  # one post per graded attempt
    assert ScoreOutbox.objects.filter(status="sent").count() == 2


def test_scores_wait_while_the_lms_is_down_and_arrive_once_after(
    launched_student, lms, django_capture_on_commit_callbacks
):
    lms.down = True
    attempt = take_quiz(launched_student, django_capture_on_commit_callbacks, right=5)
    assert lms.scores == []
    row = ScoreOutbox.objects.get(attempt=attempt)
    assert row.status == ScoreOutbox.Status.PENDING and row.tries == 1
    assert row.next_try_at > timezone.now()
    assert "503" in row.last_error
    page = launched_student.get(reverse("lti:grades"))
    assert "Not there yet" in page.text and "nothing is lost" in page.text

    # Still down: the command retries when due, with a growing delay.
    ScoreOutbox.objects.filter(pk=row.pk).update(next_try_at=timezone.now())
    call_command("lti_send_scores", stdout=io.StringIO())
    row.refresh_from_db()
    assert row.tries == 2 and row.status == "pending"
    assert row.next_try_at - timezone.now() > timedelta(seconds=50)

    # Back up: not due yet, so nothing goes until the delay has passed (or --now).
    lms.down = False
    out = io.StringIO()
    call_command("lti_send_scores", stdout=out)
    assert lms.scores == [] and "Scores sent: 0" in out.getvalue()
    call_command("lti_send_scores", "--now", stdout=out)
    call_command("lti_send_scores", "--now", stdout=out)
    assert len(lms.scores) == 1 and lms.scores[0]["scoreGiven"] == 5
    assert len(lms.recorded) == 1
    row.refresh_from_db()
    assert row.status == "sent"


def test_a_lost_answer_sends_the_score_again_and_the_lms_records_it_once(
    launched_student, lms, django_capture_on_commit_callbacks
):
    lms.lose_replies = 1  # the LMS stores the score, its answer never arrives
    attempt = take_quiz(launched_student, django_capture_on_commit_callbacks, right=4)
    row = ScoreOutbox.objects.get(attempt=attempt)
    assert row.status == "pending" and len(lms.recorded) == 1
    call_command("lti_send_scores", "--now", stdout=io.StringIO())
    row.refresh_from_db()
    assert row.status == "sent"
    first, again = lms.scores
    assert (again["scoreGiven"], again["timestamp"]) == (first["scoreGiven"], first["timestamp"])
    assert lms.recorded == [first]
    assert list(lms.results) == [(lms.lineitem_url(1), "student-1")]


def test_a_repeat_the_lms_answers_409_counts_as_recorded(
    launched_student, lms, django_capture_on_commit_callbacks
):
    lms.lose_replies = 1
    lms.conflict_on_repeat = True
    attempt = take_quiz(launched_student, django_capture_on_commit_callbacks, right=3)
    call_command("lti_send_scores", "--now", stdout=io.StringIO())
    row = ScoreOutbox.objects.get(attempt=attempt)
    assert row.status == "sent" and "409" in row.last_error
    assert len(lms.scores) == 2 and len(lms.recorded) == 1
    call_command("lti_send_scores", "--now", stdout=io.StringIO())
    assert len(lms.scores) == 2


def test_a_claimed_row_is_left_alone_until_its_claim_lapses(
    launched_student, lms, django_capture_on_commit_callbacks
):
    lms.down = True
    attempt = take_quiz(launched_student, django_capture_on_commit_callbacks, right=4)
    lms.down = False
    row = ScoreOutbox.objects.get(attempt=attempt)

    first_token, claimed = passback.claim_due(ignore_delay=True)
    assert claimed == [row.pk]
    stale = ScoreOutbox.objects.select_related(
        "resource_link__context__platform", "resource_link__module__course", "lti_user"
    ).get(pk=row.pk)
    assert stale.status == "sending" and stale.claim == first_token
    # Another sender (the command, a launch) skips a row that is being sent.
    assert passback.claim_due(ignore_delay=True)[1] == []
    assert passback.send_due(ignore_delay=True).sent == 0
    # The first sender died: once its claim lapses, the row is taken again and sent.
    ScoreOutbox.objects.filter(pk=row.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert passback.send_due().sent == 1
    # The first sender wakes up and posts after all: it cannot settle a row it no longer
    # holds, and the LMS records the score once.
    assert passback.send_claimed(row=stale, timeout=3) is None
    row.refresh_from_db()
    assert row.status == "sent" and row.tries == 2
    assert len(lms.scores) == 2 and len(lms.recorded) == 1


def test_the_next_launch_sends_what_waited(
    client, lms, platform, content, django_capture_on_commit_callbacks
):
    launch(client, lms, custom=CUSTOM)
    lms.down = True
    take_quiz(client, django_capture_on_commit_callbacks, right=3)
    assert lms.scores == []
    lms.down = False
    assert launch(client, lms, custom=CUSTOM).status_code == 302
    assert len(lms.scores) == 1
    assert launch(client, lms, custom=CUSTOM).status_code == 302
    assert len(lms.scores) == 1 and len(lms.recorded) == 1


def test_an_unreachable_lms_keeps_the_score(
    launched_student, lms, platform, django_capture_on_commit_callbacks
):
    platform.auth_token_url = "http://127.0.0.1:9/token"  # nothing listens there
    platform.save()
    attempt = take_quiz(launched_student, django_capture_on_commit_callbacks, right=4)
    row = ScoreOutbox.objects.get(attempt=attempt)
    assert row.status == "pending" and "did not answer" in row.last_error
    platform.auth_token_url = lms.url("/token")
    platform.save()
    passback.send_due(ignore_delay=True)
    assert len(lms.scores) == 1


def test_the_tool_makes_a_line_item_when_the_launch_names_none(
    client, lms, platform, content, django_capture_on_commit_callbacks
):
    launch(client, lms, custom=CUSTOM, resource_link="link-2", lineitem=False)
    take_quiz(client, django_capture_on_commit_callbacks, right=4)
    made = [item for item in lms.lineitems.values() if item.get("resourceLinkId") == "link-2"]
    assert len(made) == 1 and made[0]["scoreMaximum"] == 5 and made[0]["tag"] == "quiz"
    assert lms.scores[0]["lineitem"] == made[0]["id"]
    assert ResourceLink.objects.get(resource_link_id="link-2").lineitem_url == made[0]["id"]


def test_a_refused_score_is_not_retried_and_says_so(
    launched_student, lms, django_capture_on_commit_callbacks
):
    lms.lineitems.clear()  # the line item was deleted in the LMS: 404
    attempt = take_quiz(launched_student, django_capture_on_commit_callbacks, right=4)
    row = ScoreOutbox.objects.get(attempt=attempt)
    assert row.status == "failed" and "404" in row.last_error
    assert "Refused by Test LMS" in launched_student.get(reverse("lti:grades")).text


def test_grading_twice_queues_once(launched_student, lms, content):
    """The outbox row is unique per attempt and link, whatever calls the hook again."""
    link = LtiUser.objects.get(sub="student-1").user
    quiz = Quiz.objects.get(module=content)
    attempt = quiz_services.attempt_start(user=link, quiz=quiz)
    from tests.quiz.conftest import service_answers

    graded = quiz_services.attempt_submit(attempt=attempt, answers=service_answers(attempt, 5))
    passback.attempt_graded(attempt=graded)
    assert ScoreOutbox.objects.filter(attempt=graded).count() == 1


def test_learners_not_from_an_lms_cost_one_query(student, quiz_attempt_graded_for):
    with quiz_attempt_graded_for(student) as queries:
        pass
    assert queries == 1


@pytest.fixture
def quiz_attempt_graded_for(content, django_assert_num_queries):
    from contextlib import contextmanager

    from tests.quiz.conftest import service_answers

    @contextmanager
    def run(user):
        quiz = Quiz.objects.get(module=content)
        attempt = quiz_services.attempt_start(user=user, quiz=quiz)
        quiz_services.attempt_submit(attempt=attempt, answers=service_answers(attempt, 5))
        attempt = Attempt.objects.select_related("quiz").get(pk=attempt.pk)  # as grading has it
        with django_assert_num_queries(1) as captured:
            passback.attempt_graded(attempt=attempt)
        yield len(captured.captured_queries)

    return run


@pytest.mark.django_db(transaction=True)
def test_no_row_lock_is_held_while_the_lms_is_called(launched_student, lms, monkeypatch):
    """While a score is on its way, the row is marked in flight and committed, and another
    connection can lock it at once (SELECT … FOR UPDATE NOWAIT): the sender holds no lock
    during the HTTP call, and a row another sender has locked is skipped, not waited for."""
    seen: list[str] = []
    post = passback._post

    def look_from_another_connection(pk: int) -> None:
        try:
            with transaction.atomic():
                status = (
                    ScoreOutbox.objects.select_for_update(nowait=True)
                    .values_list("status", flat=True)
                    .get(pk=pk)
                )
            seen.append(status)
        except DatabaseError as exc:
            seen.append(f"locked: {exc}")
        finally:
            connection.close()

    def watched_post(row, *, timeout):
        other = threading.Thread(target=look_from_another_connection, args=(row.pk,))
        other.start()
        other.join()
        return post(row, timeout=timeout)

    monkeypatch.setattr(passback, "_post", watched_post)
    lms.down = True
    take_quiz(launched_student, _run_on_commit, right=4)  # commits: callbacks run at once
    assert seen == ["sending"]
    row = ScoreOutbox.objects.get()
    assert row.status == "pending"

    # A sender that holds the row's lock (in another connection) makes this one skip it.
    lms.down = False
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with transaction.atomic():
            ScoreOutbox.objects.select_for_update().get(pk=row.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(10)
    try:
        assert passback.send_due(ignore_delay=True).sent == 0
    finally:
        release.set()
        holder.join()
    assert passback.send_due(ignore_delay=True).sent == 1
    assert len(lms.recorded) == 1


@contextmanager
def _run_on_commit(execute: bool = True):
    """take_quiz's capture hook for a transactional test: commits run callbacks anyway."""
    yield []
