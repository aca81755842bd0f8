"""Fixtures shared by every test: the loaded course, and one user per role."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from courseware import services
from courseware.auth_backend import CachedModelBackend
from courseware.models import Classroom, Course, Enrollment, Module

PASSWORD = "a-long-test-password-42"


@pytest.fixture(autouse=True)
def empty_cache():
    """The cache outlives each test's rolled-back transaction: start every test empty,
    or a page kept by one test could be served to the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's deliberate slowness would dominate the suite; tests need no real hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def content(db) -> Module:
    """The shipped content, loaded the way a fresh install loads it."""
    from courseware.plugins import app_hooks

    for _, load in app_hooks("load_content"):
        load(stdout=io.StringIO())
    return Module.objects.get(slug="post-training")


@pytest.fixture
def make_user(db):
    def make(username: str, **extra):
        user = get_user_model()(username=username, email=f"{username}@example.com", **extra)
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


@pytest.fixture
def course(content) -> Course:
    return content.course


@pytest.fixture
def classroom(course, make_user) -> Classroom:
    room = Classroom.objects.create(name="Class A", course=course)
    return room


@pytest.fixture
def other_classroom(course) -> Classroom:
    return Classroom.objects.create(name="Class B", course=course)


@pytest.fixture
def instructor(make_user, classroom):
    user, _ = services.instructor_make(username="teacher_a", password=PASSWORD)
    classroom.instructors.add(user)
    return user


@pytest.fixture
def other_instructor(make_user, other_classroom):
    user, _ = services.instructor_make(username="teacher_b", password=PASSWORD)
    other_classroom.instructors.add(user)
    return user


@pytest.fixture
def student(make_user, classroom):
    user = make_user("student_a")
    Enrollment.objects.create(classroom=classroom, student=user)
    return user


@pytest.fixture
def other_student(make_user, other_classroom):
    user = make_user("student_b")
    Enrollment.objects.create(classroom=other_classroom, student=user)
    return user


@pytest.fixture
def admin_user(make_user):
    return make_user("admin_a", is_staff=True, is_superuser=True)


def warm_user_cache(user) -> None:
    """A logged-in learner's user row is normally in the cache already (their earlier
    requests put it there): query counts are measured in that steady state."""
    CachedModelBackend().get_user(user.pk)


@pytest.fixture
def student_client(client, student):
    client.force_login(student)
    warm_user_cache(student)
    return client


@pytest.fixture
def instructor_client(client, instructor):
    client.force_login(instructor)
    warm_user_cache(instructor)
    return client
