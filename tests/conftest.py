"""Fixtures shared by every test: the loaded course, and one user per role."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from courseware import content as course_content
from courseware import services
from courseware.models import Classroom, Course, Enrollment, Module

PASSWORD = "a-long-test-password-42"


@pytest.fixture(autouse=True)
def empty_cache():
    """The caches outlive each test's rolled-back transaction: start every test empty."""
    cache.clear()
    course_content.forget()
    yield
    cache.clear()
    course_content.forget()


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


def fill_content_caches() -> None:
    """Every content accessor filled, as on a server that has answered a request since
    the last edit: query counts are measured in that steady state."""
    from courseware import catalog
    from labeling import catalog as labeling_catalog
    from quiz import catalog as quiz_catalog

    for accessor in (
        catalog.course_catalog,
        catalog.teaching_texts,
        catalog.sources,
        catalog.pipeline_stages,
        catalog.figures,
        catalog.sft_examples,
        catalog.compare_prompts,
        catalog.recap_rows,
        labeling_catalog.trait_space,
        labeling_catalog.pairs,
        labeling_catalog.heldout_prompts,
        labeling_catalog.principles,
        labeling_catalog.critique_examples,
        labeling_catalog.fit_inputs_key,
        quiz_catalog.bank,
    ):
        accessor()


@pytest.fixture
def warm_content(content):
    fill_content_caches()
    return content


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


@pytest.fixture
def student_client(client, student):
    client.force_login(student)
    return client


@pytest.fixture
def instructor_client(client, instructor):
    client.force_login(instructor)
    return client


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """How much the property-based fuzzing ran (tests/test_fuzz.py), whatever -s says."""
    import sys

    fuzz = next(
        (m for n, m in list(sys.modules.items()) if n.endswith("test_fuzz") and m is not None),
        None,
    )
    if fuzz is None or not getattr(fuzz, "EXAMPLES", None):
        return
    total = sum(fuzz.EXAMPLES.values())
    server_errors = sum(n for status, n in fuzz.STATUSES.items() if status >= 500)
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(fuzz.STATUSES.items()))
    terminalreporter.write_sep("-", "property-based fuzzing")
    terminalreporter.write_line(
        f"{total} examples over {len(fuzz.EXAMPLES)} endpoint-methods; "
        f"{server_errors} answered 5xx. Statuses: {statuses}"
    )
