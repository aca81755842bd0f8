"""The class generator used by the benchmarks."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from courseware.models import Classroom, SectionProgress
from labeling.models import LabelingSession, Pick
from quiz.models import Attempt


@pytest.mark.django_db
def test_generate_class_makes_students_with_picks_and_attempts(content):
    call_command("generate_class", students=40, name="Big", stdout=io.StringIO())
    classroom = Classroom.objects.get(name="Big")
    assert classroom.enrollments.count() == 40
    assert classroom.instructors.filter(username="bench_teacher").exists()
    students = classroom.students.all()
    finished = LabelingSession.objects.filter(user__in=students, finished_at__isnull=False)
    assert 20 < finished.count() < 40  # most, not all, have labeled
    assert Pick.objects.filter(session__in=finished).count() == 6 * finished.count()
    assert Attempt.objects.filter(user__in=students, submitted_at__isnull=False).exists()
    assert SectionProgress.objects.filter(user__in=students).exists()


@pytest.mark.django_db
def test_generate_class_refuses_an_existing_name(content, classroom):
    with pytest.raises(CommandError, match="exists already"):
        call_command("generate_class", students=3, name=classroom.name, stdout=io.StringIO())
