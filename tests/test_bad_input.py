"""Bad input on every POST endpoint: a readable 4xx, never a 500, nothing written.

Each endpoint is listed in POST_ENDPOINTS with what "bad" means for it; the test
checks that the list covers every URL that accepts POST (so a new form cannot be
forgotten), then sweeps: missing fields, wrong types, other users' objects, ids that
do not exist, an oversized body, a missing CSRF token and a replayed submit. What a
fixed list cannot think of, tests/test_fuzz.py generates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from tests.test_access_matrix import EXPECTED

# Rows that legitimately change on a rejected request: sessions and the login
# lockout's own bookkeeping.
VOLATILE = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}


def row_counts() -> dict[str, int]:
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label_lower not in VOLATILE and model._meta.managed
    }


@dataclass
class Sweep:
    """How to attack one POST endpoint."""

    role: str  # whose session sends it
    url: Callable[[dict[str, Any]], str]
    bad_bodies: list[dict[str, Any]] = field(default_factory=list)
    expect: tuple[int, ...] = (400,)
    shows_error: bool = True  # the answer shows the learner what was wrong


def classroom_url(name: str, key: str = "classroom") -> Callable[[dict[str, Any]], str]:
    return lambda w: reverse(name, kwargs={"pk": w[key].pk})


POST_ENDPOINTS: dict[str, Sweep] = {
    "courseware:signup": Sweep(
        role="anonymous",
        url=lambda w: reverse("courseware:signup"),
        bad_bodies=[
            {},
            {"join_code": "", "username": "x", "password1": "a", "password2": "a"},
            {"join_code": ["A", "B"], "username": ["x", "y"]},
            {
                "join_code": "NOT-A-CODE",
                "username": "x" * 500,
                "password1": "pw-long-enough-1",
                "password2": "pw-long-enough-1",
            },
            {"join_code": "\x00\x01", "username": "<script>", "password1": 5, "password2": 6},
        ],
    ),
    "courseware:join": Sweep(
        role="student",
        url=lambda w: reverse("courseware:join"),
        bad_bodies=[{}, {"join_code": ""}, {"join_code": "Z" * 200}, {"join_code": "'; DROP"}],
    ),
    "courseware:classroom-regenerate-code": Sweep(
        role="instructor",
        url=classroom_url("courseware:classroom-regenerate-code", "other_classroom"),
        bad_bodies=[{}],
        expect=(404,),
        shows_error=False,
    ),
    "courseware:section-done": Sweep(
        role="student",
        url=lambda w: reverse(
            "courseware:section-done",
            kwargs={"course": "language-models", "module": "post-training", "section": "no-such"},
        ),
        bad_bodies=[{}],
        expect=(404,),
        shows_error=False,
    ),
    "courseware:section-done (the quiz: only passing marks it done)": Sweep(
        role="student",
        url=lambda w: reverse(
            "courseware:section-done",
            kwargs={"course": "language-models", "module": "post-training", "section": "quiz"},
        ),
        bad_bodies=[{}],
        expect=(409,),
    ),
    "courseware:privacy": Sweep(
        role="student",
        url=lambda w: reverse("courseware:privacy"),
        bad_bodies=[{"hide": "1"}],
        expect=(403,),
        shows_error=False,
    ),
    "login": Sweep(
        role="anonymous",
        url=lambda w: reverse("login"),
        bad_bodies=[
            {},
            {"username": "student_a"},
            {"username": ["a", "b"], "password": 1},
            {"username": "u" * 300, "password": "x"},  # longer than the lockout's column
        ],
    ),
    "password_change": Sweep(
        role="student",
        url=lambda w: reverse("password_change"),
        bad_bodies=[{}, {"old_password": "wrong", "new_password1": "a", "new_password2": "b"}],
    ),
    "password_reset": Sweep(
        role="anonymous",
        url=lambda w: reverse("password_reset"),
        bad_bodies=[{}, {"email": "not-an-email"}],
    ),
    "courseware:compare-guess": Sweep(
        role="student",
        url=lambda w: reverse(
            "courseware:compare-guess",
            kwargs={"course": "language-models", "module": "post-training"},
        ),
        bad_bodies=[
            {},
            {"response": "abc", "guess": "base"},
            {"response": "99999999", "guess": "base"},
            {"response": "-1", "guess": "rlhf"},
            {"response": ["1", "2"], "guess": ["base", "sft"]},
            {"response": "5.0", "guess": "base"},
            {"response": "²", "guess": "base"},
            {"response": "9" * 5000, "guess": "base"},
        ],
        expect=(400, 404),
    ),
    "quiz:submit": Sweep(
        role="student",
        url=lambda w: reverse(
            "quiz:submit",
            kwargs={"course": "language-models", "module": "post-training", "pk": w["attempt"].pk},
        ),
        bad_bodies=[
            {},
            {"q1": "abc", "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
            {"q1": "9", "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
            {"q1": "0", "q2": "-1", "q3": "1", "q4": "1", "q5": "1"},
            {"q9": "1", "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
            {"q1": ["1", "2"], "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
            {"q1": "²", "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
            {"q²": "1", "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
            {"q1": "9" * 5000, "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
        ],
    ),
    "quiz:submit (another learner's attempt)": Sweep(
        role="other_student",
        url=lambda w: reverse(
            "quiz:submit",
            kwargs={"course": "language-models", "module": "post-training", "pk": w["attempt"].pk},
        ),
        bad_bodies=[{"q1": "1", "q2": "1", "q3": "1", "q4": "1", "q5": "1"}],
        expect=(404,),
    ),
    "quiz:submit (an attempt that does not exist)": Sweep(
        role="student",
        url=lambda w: reverse(
            "quiz:submit",
            kwargs={"course": "language-models", "module": "post-training", "pk": 987654},
        ),
        bad_bodies=[{"q1": "1"}],
        expect=(404,),
    ),
    "labs:overoptimisation-pick": Sweep(
        role="student",
        url=lambda w: reverse(
            "labs:overoptimisation-pick",
            kwargs={"course": "language-models", "module": "post-training"},
        ),
        bad_bodies=[
            {},
            {"first": "abc", "second": "1", "winner": "1"},
            {"first": "99999999", "second": "99999998", "winner": "99999999"},
            {"first": "-1", "second": "2", "winner": "2"},
            {"first": ["1", "2"], "second": "3", "winner": "3"},
            {"first": "1" * 40, "second": "2", "winner": "2"},
        ],
    ),
    "labeling:pick": Sweep(
        role="student",
        url=lambda w: pick_url(w["session"].pk),
        bad_bodies=[
            {},
            {"pair": "abc", "side": "left"},
            {"pair": "99999999", "side": "left"},
            {"pair": lambda w: w["pair"].pk, "side": "up"},
            {"pair": lambda w: w["pair"].pk},
            {"pair": lambda w: [w["pair"].pk, w["pair"].pk], "side": ["left", "right"]},
            {"pair": "-1", "side": "right"},
        ],
        expect=(400, 404),
    ),
    "labeling:pick (another learner's session)": Sweep(
        role="other_student",
        url=lambda w: pick_url(w["session"].pk),
        bad_bodies=[{"pair": lambda w: w["pair"].pk, "side": "left"}],
        expect=(404,),
    ),
    "labeling:pick (a session that does not exist)": Sweep(
        role="student",
        url=lambda w: pick_url(987654),
        bad_bodies=[{"pair": lambda w: w["pair"].pk, "side": "left"}],
        expect=(404,),
    ),
    "labeling:finish": Sweep(
        role="student",
        url=lambda w: reverse(
            "labeling:finish",
            kwargs={
                "course": "language-models",
                "module": "post-training",
                "session": w["session"].pk,
            },
        ),
        bad_bodies=[{}, {"session": "other"}],
        expect=(409,),  # not all six pairs picked yet
    ),
    "labeling:finish (another learner's session)": Sweep(
        role="other_student",
        url=lambda w: reverse(
            "labeling:finish",
            kwargs={
                "course": "language-models",
                "module": "post-training",
                "session": w["session"].pk,
            },
        ),
        bad_bodies=[{}],
        expect=(404,),
    ),
    "lti:roster-sync": Sweep(
        role="instructor",
        url=classroom_url("lti:roster-sync", "other_classroom"),
        bad_bodies=[{}],
        expect=(404,),
        shows_error=False,
    ),
    "lti:roster-sync (a class not linked to an LMS)": Sweep(
        role="instructor",
        url=classroom_url("lti:roster-sync"),
        bad_bodies=[{}, {"context": "other"}],
        expect=(409,),
    ),
    "lti:deep-link (a picker this session did not open)": Sweep(
        role="instructor",
        url=lambda w: reverse("lti:deep-link", kwargs={"token": "no-such-picker"}),
        bad_bodies=[{}, {"target": "module:1"}, {"target": ["module:1", "section:1"]}],
        expect=(404,),
        shows_error=False,
    ),
}


def pick_url(session_pk: int) -> str:
    return reverse(
        "labeling:pick",
        kwargs={"course": "language-models", "module": "post-training", "session": session_pk},
    )


# POST endpoints whose every outcome is fine for any body: logout, and starting the
# quiz or a labeling session (idempotent: they resume the open one; no body is read).
NO_BODY = {"logout", "quiz:start", "labeling:session-new"}


def test_every_post_endpoint_is_swept():
    posting = {name for name, case in EXPECTED.items() if case.method == "post"}
    # Form pages that accept GET and POST are listed in the sweep by name too.
    forms = {
        "courseware:signup",
        "courseware:join",
        "courseware:compare-guess",
        "lti:deep-link",
        "login",
        "password_change",
        "password_reset",
    }
    swept = {name.split(" (")[0] for name in POST_ENDPOINTS}
    missing = sorted((posting | forms) - swept - NO_BODY)
    assert missing == [], f"POST endpoints without a bad-input sweep: {missing}"


@pytest.fixture
def world(
    content, classroom, other_classroom, student, other_student, instructor, other_instructor
):
    from labeling import services as labeling_services
    from labeling.models import PreferencePair
    from quiz import services as quiz_services
    from quiz.models import Quiz

    session, _ = labeling_services.session_start(user=student)
    return {
        "session": session,
        "pair": PreferencePair.objects.order_by("order").first(),
        "attempt": quiz_services.attempt_start(user=student, quiz=Quiz.objects.get(module=content)),
        "classroom": classroom,
        "other_classroom": other_classroom,
        "users": {
            "anonymous": None,
            "student": student,
            "other_student": other_student,
            "instructor": instructor,
            "other_instructor": other_instructor,
        },
    }


def client_for(world, role: str, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_ENDPOINTS))
def test_bad_bodies_get_a_readable_4xx_and_write_nothing(world, name):
    sweep = POST_ENDPOINTS[name]
    client = client_for(world, sweep.role)
    url = sweep.url(world)
    for template in sweep.bad_bodies:
        body = {key: value(world) if callable(value) else value for key, value in template.items()}
        before = row_counts()
        response = client.post(url, body)
        assert response.status_code in sweep.expect, (name, body, response.status_code)
        if sweep.shows_error:
            # A visible error, tied to its field or announced: not a bare status.
            assert 'class="field-error"' in response.text or 'role="alert"' in response.text
        else:
            assert "<h1>" in response.text  # a page that says what happened
        assert row_counts() == before, (name, body)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_ENDPOINTS))
def test_missing_csrf_token_is_refused_with_an_explanation(world, name):
    sweep = POST_ENDPOINTS[name]
    client = client_for(world, sweep.role, csrf=True)
    before = row_counts()
    response = client.post(sweep.url(world), {})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_ENDPOINTS))
def test_oversized_body_is_refused(world, name, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    sweep = POST_ENDPOINTS[name]
    client = client_for(world, sweep.role)
    before = row_counts()
    response = client.post(sweep.url(world), {"padding": "x" * (128 * 1024)})
    # Refused as too large (400) unless refused first for another reason (403/404/409).
    assert response.status_code in (400, 403, 404, 409), response.status_code
    assert row_counts() == before


@pytest.mark.django_db
def test_replayed_signup_creates_one_account(world):
    code = world["classroom"].join_code
    body = {
        "join_code": code,
        "username": "replayer",
        "password1": "pw-long-enough-77",
        "password2": "pw-long-enough-77",
    }
    first = Client().post(reverse("courseware:signup"), body)
    second = Client().post(reverse("courseware:signup"), body)
    assert first.status_code == 302
    assert second.status_code == 400
    assert "That username is taken" in second.text
    assert world["classroom"].enrollments.filter(student__username="replayer").count() == 1
