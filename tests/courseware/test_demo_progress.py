"""Demo data does not contradict itself: a demo student's progress follows what the
demo made them do (a finished labeling session, a passed quiz)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from courseware.models import Classroom, Section, SectionProgress
from labeling.models import LabelingSession
from quiz.models import Attempt

KW = {"course": "language-models", "module": "post-training"}


def done_ids(section) -> set[int]:
    return set(
        SectionProgress.objects.filter(section=section, done_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )


@pytest.mark.django_db
def test_demo_progress_follows_demo_activity(content):
    call_command("demo", students=30, stdout=io.StringIO())
    students = {e.student_id for e in Classroom.objects.get(name="Demo class").enrollments.all()}
    label = Section.objects.get(url_name="labeling:session")
    quiz = Section.objects.get(url_name="quiz:quiz")
    labeled = set(
        LabelingSession.objects.filter(user__in=students, finished_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    passed = set(
        Attempt.objects.filter(user__in=students, passed=True).values_list("user_id", flat=True)
    )
    # Both kinds of student exist, so both directions are tested.
    assert labeled and students - labeled
    assert passed and students - passed
    assert done_ids(label) & students == labeled
    assert done_ids(quiz) & students == passed


@pytest.mark.django_db
def test_a_demo_student_who_labeled_is_not_told_the_section_was_not_started(content):
    call_command("demo", students=12, stdout=io.StringIO())
    session = LabelingSession.objects.filter(finished_at__isnull=False).order_by("user_id").first()
    client = Client()
    client.force_login(session.user)
    page = client.get(reverse("courseware:module", kwargs=KW)).text
    title = Section.objects.get(url_name="labeling:session").title
    entry = re.search(re.escape(title) + r".*?<span class=\"status\">(\w[\w ]*)</span>", page, re.S)
    assert entry and entry[1] == "Done"


@pytest.mark.django_db
def test_running_the_demo_again_keeps_progress_and_activity_in_step(content):
    call_command("demo", students=12, stdout=io.StringIO())
    call_command("demo", students=12, stdout=io.StringIO())
    label = Section.objects.get(url_name="labeling:session")
    labeled = set(
        LabelingSession.objects.filter(finished_at__isnull=False).values_list("user_id", flat=True)
    )
    assert done_ids(label) == labeled


@pytest.mark.django_db
def test_every_demo_session_has_its_fit_and_the_class_tally_is_published(content):
    """The instructor's class pictures read stored fits, and the profile and labs read
    the published tally: the demo must leave both, as finishing does."""
    from labeling.models import ClassPickTally, RewardFit

    call_command("demo", students=30, stdout=io.StringIO())
    classroom = Classroom.objects.get(name="Demo class")
    finished = LabelingSession.objects.filter(
        user__enrollments__classroom=classroom, finished_at__isnull=False
    )
    assert finished.count() > 5
    assert RewardFit.objects.filter(session__in=finished).count() == finished.count()
    tally = ClassPickTally.objects.get(classroom=classroom)
    assert tally.counts["finished"] == finished.count() - finished.count() % 5 > 0
