"""Every URL in the project, for every role: the status it must answer.

The URL list comes from the resolver, so a new URL without an entry in EXPECTED
fails `test_every_url_has_expectations`. Objects named in URLs belong to class A
(student_a, teacher_a); "other_*" roles belong to class B.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ("anonymous", "student", "other_student", "instructor", "other_instructor", "admin")
LOGIN = "login"  # a redirect to the login page


@dataclass
class World:
    """The objects URLs are built from, all owned by class A."""

    course: str
    module: str
    classroom: Any
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    expect: dict[str, int | str]
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    method: str = "get"
    data: dict[str, Any] | None = None


def same(status: int | str) -> dict[str, int | str]:
    return dict.fromkeys(ROLES, status)


def logged_in(status: int | str) -> dict[str, int | str]:
    return {"anonymous": LOGIN} | dict.fromkeys(ROLES[1:], status)


def module_kwargs(w: World) -> dict[str, Any]:
    return {"course": w.course, "module": w.module}


TEACHER_ONLY_OWN_CLASS = {
    "anonymous": LOGIN,
    "student": 403,
    "other_student": 403,
    "instructor": 200,
    "other_instructor": 404,
    "admin": 200,
}

# A learner's own work: nobody else, not even their instructor, opens it by URL.
OWNER_ONLY = {"anonymous": LOGIN, "student": 200} | dict.fromkeys(
    ("other_student", "instructor", "other_instructor", "admin"), 404
)

EXPECTED: dict[str, Case] = {
    # --- courseware ---------------------------------------------------------------------
    "courseware:home": Case(same(200)),
    "courseware:continue": Case(logged_in(302)),
    "courseware:signup": Case({"anonymous": 200} | dict.fromkeys(ROLES[1:], 302)),
    "courseware:join": Case(logged_in(200)),
    "courseware:teach": Case(
        {"anonymous": LOGIN, "student": 403, "other_student": 403}
        | dict.fromkeys(("instructor", "other_instructor", "admin"), 200)
    ),
    "courseware:classroom": Case(TEACHER_ONLY_OWN_CLASS, kwargs=lambda w: {"pk": w.classroom.pk}),
    "courseware:classroom-regenerate-code": Case(
        TEACHER_ONLY_OWN_CLASS | {"instructor": 302, "admin": 302},
        kwargs=lambda w: {"pk": w.classroom.pk},
        method="post",
    ),
    "courseware:gradebook": Case(TEACHER_ONLY_OWN_CLASS, kwargs=lambda w: {"pk": w.classroom.pk}),
    "courseware:privacy": Case(
        {"anonymous": LOGIN, "student": 403, "other_student": 403}
        | dict.fromkeys(("instructor", "other_instructor", "admin"), 302),
        method="post",
        data={"hide": "1"},
    ),
    "courseware:course": Case(same(200), kwargs=lambda w: {"course": w.course}),
    "courseware:module": Case(logged_in(200), kwargs=module_kwargs),
    "courseware:section": Case(
        logged_in(200), kwargs=lambda w: module_kwargs(w) | {"section": "pipeline"}
    ),
    "courseware:section-done": Case(
        logged_in(302),
        kwargs=lambda w: module_kwargs(w) | {"section": "pipeline"},
        method="post",
    ),
    # --- teaching pages (issue 3) ----------------------------------------------------------
    "courseware:pipeline": Case(logged_in(200), kwargs=module_kwargs),
    "courseware:pipeline-stage": Case(
        logged_in(200), kwargs=lambda w: module_kwargs(w) | {"stage": "rlhf"}
    ),
    "courseware:pretraining": Case(logged_in(200), kwargs=module_kwargs),
    "courseware:sft": Case(logged_in(200), kwargs=module_kwargs),
    "courseware:compare": Case(logged_in(200), kwargs=module_kwargs),
    "courseware:compare-guess": Case(logged_in(200), kwargs=module_kwargs),
    "courseware:closing": Case(logged_in(200), kwargs=module_kwargs),  # issue 12
    # --- quiz (issue 5): the attempt belongs to student_a ----------------------------------
    "quiz:quiz": Case(logged_in(200), kwargs=module_kwargs),
    "quiz:start": Case(logged_in(302), kwargs=module_kwargs, method="post"),
    "quiz:attempt": Case(
        OWNER_ONLY, kwargs=lambda w: module_kwargs(w) | {"pk": w.extra["attempt"].pk}
    ),
    "quiz:submit": Case(
        OWNER_ONLY | {"student": 400},  # the owner's empty submit: "answer every question"
        kwargs=lambda w: module_kwargs(w) | {"pk": w.extra["attempt"].pk},
        method="post",
    ),
    "quiz:result": Case(
        OWNER_ONLY | {"student": 302},  # not submitted yet: back to the attempt
        kwargs=lambda w: module_kwargs(w) | {"pk": w.extra["attempt"].pk},
    ),
    # --- quiz analytics for a class (issue 6) -----------------------------------------------
    "quiz:class": Case(TEACHER_ONLY_OWN_CLASS, kwargs=lambda w: {"pk": w.classroom.pk}),
    # --- labeling (issue 4): the session belongs to student_a, with no picks yet ----------
    "labeling:session": Case(logged_in(200), kwargs=module_kwargs),
    "labeling:session-new": Case(logged_in(302), kwargs=module_kwargs, method="post"),
    "labeling:pick": Case(
        OWNER_ONLY | {"student": 400},  # the owner's empty pick: "choose a side"
        kwargs=lambda w: module_kwargs(w) | {"session": w.extra["session"].pk},
        method="post",
    ),
    "labeling:finish": Case(
        OWNER_ONLY | {"student": 409},  # six picks are needed first: a conflict
        kwargs=lambda w: module_kwargs(w) | {"session": w.extra["session"].pk},
        method="post",
    ),
    "labeling:export": Case(logged_in(200), kwargs=module_kwargs),
    "labeling:profile": Case(logged_in(200), kwargs=module_kwargs),
    "labeling:policy": Case(logged_in(200), kwargs=module_kwargs),
    "labeling:critique": Case(logged_in(200), kwargs=module_kwargs),  # issue 12
    "labeling:rlaif": Case(logged_in(200), kwargs=module_kwargs),
    # issue 14: the labs
    "labs:overoptimisation": Case(logged_in(200), kwargs=module_kwargs),
    "labs:optimisers": Case(logged_in(200), kwargs=module_kwargs),
    "labs:rlvr": Case(logged_in(200), kwargs=module_kwargs),
    # --- labeling, instructor class view (issue 6) ----------------------------------------
    "labeling:class-preferences": Case(
        TEACHER_ONLY_OWN_CLASS, kwargs=lambda w: {"pk": w.classroom.pk}
    ),
    "labeling:class-preferences-jsonl": Case(
        TEACHER_ONLY_OWN_CLASS, kwargs=lambda w: {"pk": w.classroom.pk}
    ),
    "labeling:class-preferences-csv": Case(
        TEACHER_ONLY_OWN_CLASS, kwargs=lambda w: {"pk": w.classroom.pk}
    ),
    # --- LMS (LTI 1.3, issue 15) ----------------------------------------------------------
    # The protocol endpoints: login without an issuer is refused; launches are POSTs only
    # (their accepted and refused launches are in tests/lti).
    "lti:login": Case(same(400)),
    "lti:launch": Case(same(405)),
    "lti:jwks": Case(same(200)),
    "lti:setup": Case(
        {"anonymous": LOGIN, "admin": 200}
        | dict.fromkeys(("student", "other_student", "instructor", "other_instructor"), 403)
    ),
    # A picker opens only from a deep-linking launch in the same session.
    "lti:deep-link": Case(logged_in(404), kwargs=lambda w: {"token": "no-such-picker"}),
    "lti:grades": Case(logged_in(200)),
    "lti:classroom": Case(TEACHER_ONLY_OWN_CLASS, kwargs=lambda w: {"pk": w.classroom.pk}),
    "lti:roster-sync": Case(
        TEACHER_ONLY_OWN_CLASS | {"instructor": 409, "admin": 409},  # class A has no LMS
        kwargs=lambda w: {"pk": w.classroom.pk},
        method="post",
    ),
    # --- accounts (django.contrib.auth) ------------------------------------------------------
    "login": Case(same(200)),
    "logout": Case(same(302), method="post"),
    "password_change": Case(logged_in(200)),
    "password_change_done": Case(logged_in(200)),
    "password_reset": Case(same(200)),
    "password_reset_done": Case(same(200)),
    "password_reset_confirm": Case(
        same(200), kwargs=lambda w: {"uidb64": "MQ", "token": "set-password"}
    ),
    "password_reset_complete": Case(same(200)),
    # --- operations ----------------------------------------------------------------------
    "healthz": Case(same(200)),
    "livez": Case(same(200)),
}


def iter_patterns(
    patterns: list, namespace: str | None = None, prefix: str = ""
) -> Iterator[tuple[str | None, str]]:
    """(namespaced name, full route) for every URL pattern."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from iter_patterns(pattern.url_patterns, ns, route)
        else:
            assert isinstance(pattern, URLPattern)
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield name, route


def project_url_names() -> set[str | None]:
    """Every URL outside Django's admin (whose access the admin site owns; see
    test_admin_is_for_staff_only)."""
    names = set()
    for name, route in iter_patterns(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue
        names.add(name)
    return names


def test_every_url_has_expectations():
    names = project_url_names()
    assert None not in names, "Every project URL needs a name so access can be checked"
    missing = sorted(names - set(EXPECTED))
    assert missing == [], f"URLs without access expectations: {missing}"
    stale = sorted(set(EXPECTED) - names)
    assert stale == [], f"Expectations for URLs that no longer exist: {stale}"


@pytest.fixture
def world(content, classroom, other_classroom, student) -> World:
    from labeling import services as labeling_services
    from quiz import services as quiz_services
    from quiz.models import Quiz

    attempt = quiz_services.attempt_start(user=student, quiz=Quiz.objects.get(module=content))
    session, _ = labeling_services.session_start(user=student)
    return World(
        course=content.course.slug,
        module=content.slug,
        classroom=classroom,
        extra={"attempt": attempt, "session": session},
    )


@pytest.fixture
def users(student, other_student, instructor, other_instructor, admin_user) -> dict[str, Any]:
    return {
        "anonymous": None,
        "student": student,
        "other_student": other_student,
        "instructor": instructor,
        "other_instructor": other_instructor,
        "admin": admin_user,
    }


def check(client, role: str, user, url: str, case: Case) -> None:
    client.logout()
    if user is not None:
        client.force_login(user)
    response = getattr(client, case.method)(url, case.data or {})
    expected = case.expect[role]
    if expected == LOGIN:
        assert response.status_code == 302, (role, url, response.status_code)
        assert response.url.startswith(reverse("login")), (role, url, response.url)
    else:
        assert response.status_code == expected, (role, url, response.status_code)
    assert response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_answers_each_role_as_expected(client, world, users, name):
    case = EXPECTED[name]
    for role in ROLES:
        # Rebuild per role: a POST may change state (a regenerated code, a logout).
        url = reverse(name, kwargs=case.kwargs(world))
        check(client, role, users[role], url, case)


@pytest.mark.django_db
def test_admin_is_for_staff_only(client, users, content):
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    for role, user in users.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            if role == "admin":
                assert response.status_code == 200, (url, response.status_code)
            else:
                assert response.status_code == 302, (role, url)
                assert response.url.startswith(reverse("admin:login")), (role, url)
