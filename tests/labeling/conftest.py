"""Labeling fixtures: sessions with picks, classmates who finished."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from courseware.models import Enrollment
from labeling import services
from labeling.models import LabelingSession, ScreenSide

KW = {"course": "language-models", "module": "post-training"}


def url(name: str, **extra) -> str:
    return reverse(f"labeling:{name}", kwargs={**KW, **extra})


def pick_all(session: LabelingSession, side: str = ScreenSide.LEFT) -> None:
    for shown in session.shown.all():
        services.pick_record(session=session, pair=shown.pair_id, side=side)


@pytest.fixture
def open_session(content, student) -> LabelingSession:
    session, _ = services.session_start(user=student, rng=random.Random(1))
    return session


@pytest.fixture
def finished_session(open_session) -> LabelingSession:
    pick_all(open_session)
    return services.session_finish(session=open_session)


@pytest.fixture
def make_classmates(make_user, classroom, content):
    """n students in the student's class, each with a finished session (random picks)."""

    def make(n: int, *, start: int = 0) -> list:
        rng = random.Random(n)
        users = []
        for i in range(start, start + n):
            user = make_user(f"classmate_{i}")
            Enrollment.objects.create(classroom=classroom, student=user)
            session, _ = services.session_start(user=user, rng=rng)
            for shown in session.shown.all():
                services.pick_record(
                    session=session, pair=shown.pair_id, side=rng.choice(ScreenSide.values)
                )
            services.session_finish(session=session)
            users.append(user)
        return users

    return make
