"""Labs fixtures: a learner with a finished labeling session, classmates who finished."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from courseware.models import Enrollment
from labeling import services
from labeling.models import LabelingSession, ScreenSide

KW = {"course": "language-models", "module": "post-training"}
HX = {"HX-Request": "true"}


def url(name: str, **extra) -> str:
    return reverse(f"labs:{name}", kwargs={**KW, **extra})


def finish_session(user, rng: random.Random, side: str | None = None) -> LabelingSession:
    session, _ = services.session_start(user=user, rng=rng)
    for shown in session.shown.all():
        chosen = side or rng.choice(ScreenSide.values)
        services.pick_record(session=session, pair=shown.pair_id, side=chosen)
    return services.session_finish(session=session)


@pytest.fixture
def finished_session(content, student) -> LabelingSession:
    return finish_session(student, random.Random(1), ScreenSide.LEFT)


@pytest.fixture
def make_classmates(make_user, classroom, content):
    """n students in the student's class, each with a finished session (random picks)."""

    def make(n: int, *, start: int = 0) -> list:
        rng = random.Random(n)
        users = []
        for i in range(start, start + n):
            user = make_user(f"classmate_{i}")
            Enrollment.objects.create(classroom=classroom, student=user)
            finish_session(user, rng)
            users.append(user)
        return users

    return make
