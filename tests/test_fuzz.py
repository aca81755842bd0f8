"""Property-based fuzzing of every URL, its forms and its POST endpoint (issue 13).

The fixed bad-input sweep (tests/test_bad_input.py) missed superscript digits, 5,000-digit
numbers, other charsets and look-alike names. Here Hypothesis (with its Django
integration: `from_form` for the site's forms) generates requests for every URL the
resolver knows, built from real objects so that each resolves:

- bodies and query strings of arbitrary unicode, numbers in every script's digits, huge
  and negative numbers, floats, long strings, real object ids (the learner's own and
  another learner's), duplicated and missing fields;
- sent as urlencoded UTF-8, UTF-16, Latin-1 or an unknown charset, multipart, JSON,
  plain text, raw bytes, or with no content type.

The properties, for every example: never a 5xx; a 4xx writes nothing (row counts of every
table); and no answer carries another user's data (class B's names, emails, join code).
The budget is fixed per endpoint (FUZZ_POST_EXAMPLES, FUZZ_GET_EXAMPLES) and derandomized,
so a run is repeatable and bounded; the total is printed in pytest's summary.
"""

from __future__ import annotations

import html
import os
import re
import unicodedata
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.contrib.auth.forms import PasswordResetForm
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import from_form, register_field_strategy

from courseware.forms import (
    GuessForm,
    JoinCodeField,
    JoinForm,
    LoginForm,
    SampleForm,
    SignupForm,
    StrictDecimalNumberField,
    StrictIntegerField,
)
from tests.test_access_matrix import EXPECTED, LOGIN, World, iter_patterns
from tests.test_bad_input import row_counts

POST_EXAMPLES = int(os.environ.get("FUZZ_POST_EXAMPLES", "40"))
GET_EXAMPLES = int(os.environ.get("FUZZ_GET_EXAMPLES", "10"))

#: Examples run, per endpoint and method, and the statuses seen: pytest's terminal
#: summary prints them (tests/conftest.py).
EXAMPLES: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()

ROLE_ORDER = ("anonymous", "student", "instructor", "admin")

# Another class's data that no fuzzed request (sent as class A's student or instructor,
# or anonymously) may ever see.
SECRET_EMAIL = "secret-b-7f3a@example.com"
SECRET_CLASS = "Secret Class B-9c1e"


def url_names() -> list[str]:
    names = {name for name, route in iter_patterns(get_resolver().url_patterns)}
    return sorted(n for n in names if n and not n.startswith("admin:"))


def role_for(name: str) -> str:
    """Who sends the fuzz: the first role (anonymous first) the URL really serves."""
    expect = EXPECTED[name].expect
    for role in ROLE_ORDER:
        status = expect[role]
        if status != LOGIN and status not in (403, 404):
            return role
    return "student"


# --- what requests are made of -------------------------------------------------------

ZEROS = [
    chr(i)
    for i in range(0x110000)
    if unicodedata.category(chr(i)) == "Nd" and unicodedata.digit(chr(i)) == 0
]


# Characters that read as digits but are not decimal digits ("²", "①", "Ⅻ"): '²'.isdigit()
# is true and int('²') fails.
NUMERALS = [
    chr(i)
    for i in range(0x2FFFF)
    if unicodedata.category(chr(i)) in ("No", "Nl") and unicodedata.numeric(chr(i), None)
][:400]


def in_script(number: int, zero: str) -> str:
    digits = str(abs(number))
    text = "".join(chr(ord(zero) + int(d)) for d in digits)
    return ("-" if number < 0 else "") + text


# The site's own field types, for from_form: join codes, usernames, strict numbers.
register_field_strategy(JoinCodeField, st.from_regex(r"\A[A-Z0-9]{5}-?[A-Z0-9]{5}\Z"))
register_field_strategy(StrictIntegerField, st.integers(-(10**20), 10**20))
register_field_strategy(StrictDecimalNumberField, st.floats(-10, 10))

FORMS = {
    "courseware:signup": SignupForm,
    "courseware:join": JoinForm,
    "courseware:compare-guess": GuessForm,
    "courseware:pretraining": SampleForm,
    "login": LoginForm,
    "password_reset": PasswordResetForm,
}

# Every field name a form of the site posts, besides those read from its pages.
KNOWN_FIELDS = [
    "q1",
    "q2",
    "q3",
    "q5",
    "q9",
    "pair",
    "side",
    "response",
    "guess",
    "target",
    "hide",
    "next",
    "username",
    "password",
    "email",
    "join_code",
    "password1",
    "password2",
    "old_password",
    "new_password1",
    "new_password2",
    "id_token",
    "state",
    "iss",
    "login_hint",
    "target_link_uri",
    "prompt",
    "beta",
    "step",
    "principle",
    "example",
    "stage",
    "sort",
    "dir",
    "page",
    "phrase",
    "sentence",
    "start",
    "temperature",
    "seed",
]


def numbers() -> st.SearchStrategy[str]:
    """Numbers as a request may spell them: every script's digits, superscripts and
    other numerals, huge, negative, float, exponent, with separators."""
    return st.one_of(
        st.integers(-(10**6), 10**6).map(str),
        st.builds(in_script, st.integers(-(10**6), 10**6), st.sampled_from(ZEROS)),
        st.text(alphabet=st.sampled_from(NUMERALS + list("0123456789")), min_size=1, max_size=4),
        st.text(alphabet="0123456789", min_size=19, max_size=6000),  # huge
        st.text(alphabet="0123456789", min_size=1, max_size=30).map(lambda s: "-" + s),
        st.floats().map(repr),
        st.sampled_from(["²", "5.0", "1e999", "nan", "-0", "0x10", "1_000", "٣", " 1 ", "+1"]),
    )


def values(ids: list[int], codes: list[str], seen: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        numbers(),
        numbers(),  # twice: numbers are where the site broke
        st.text(max_size=40),
        st.integers(200, 60_000).map(lambda n: "A" * n),  # long
        st.sampled_from(seen or [""]),  # what the site's own form sends
        st.sampled_from(ids).map(str),  # real objects, the learner's and another's
        st.sampled_from(codes),
        st.sampled_from(["left", "right", "a", "b", "base", "sft", "rlhf", "1", "0", ""]),
        st.sampled_from(["module:1", "section:1", "module:²", "\x00", "<script>", "'; --"]),
    )


def bodies(own: list[str], seen: list[str], ids: list[int], codes: list[str]):
    """A form body as (name, value) pairs: mostly the endpoint's own form's fields, any
    subset of them, some repeated; now and then another field or a made-up name."""
    names = st.one_of(
        st.sampled_from(own or KNOWN_FIELDS),
        st.sampled_from(own or KNOWN_FIELDS),
        st.sampled_from(own or KNOWN_FIELDS),
        st.sampled_from(KNOWN_FIELDS),
        st.builds(lambda n: "q" + n, numbers()),
        st.text(max_size=12),
    )
    return st.lists(st.tuples(names, values(ids, codes, seen)), max_size=8)


CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "multipart/form-data",
    "multipart/form-data; boundary=broken",
    "application/json",
    "text/plain; charset=utf-8",
    "",
]


def encode(pairs: list[tuple[str, str]], content_type: str) -> tuple[bytes, str]:
    if content_type == "multipart/form-data":
        return b"", content_type  # sent through the test client's own encoder
    if content_type == "application/json":
        return repr(dict(pairs)).encode("utf-8", "replace"), content_type
    match = re.search(r"charset=([\w-]+)", content_type)
    charset = match[1] if match else "utf-8"
    text = urlencode(pairs)
    try:
        body = text.encode(charset, "replace")
    except LookupError:
        body = text.encode("utf-8", "replace")
    return body, content_type


# --- the objects URLs are built from ----------------------------------------------------


@pytest.fixture
def fuzz_world(
    content, classroom, other_classroom, student, other_student, instructor, admin_user, settings
):
    from courseware.models import CompareResponse
    from labeling import services as labeling_services
    from labeling.models import PreferencePair
    from quiz import services as quiz_services
    from quiz.models import Quiz

    # The fuzz must reach the views: limits far above its budget (they are tested in
    # tests/courseware/test_rate_limits.py).
    settings.RATE_LIMITS = {}
    other_student.email = SECRET_EMAIL
    other_student.save(update_fields=["email"])
    other_classroom.name = SECRET_CLASS
    other_classroom.save(update_fields=["name"])
    quiz = Quiz.objects.get(module=content)
    attempt = quiz_services.attempt_start(user=student, quiz=quiz)
    session, _ = labeling_services.session_start(user=student)
    other_attempt = quiz_services.attempt_start(user=other_student, quiz=quiz)
    other_session, _ = labeling_services.session_start(user=other_student)
    world = World(
        course=content.course.slug,
        module=content.slug,
        classroom=classroom,
        extra={"attempt": attempt, "session": session},
    )
    pair = PreferencePair.objects.order_by("order").first()
    ids = [
        *CompareResponse.objects.values_list("pk", flat=True)[:3],
        attempt.pk,
        session.pk,
        other_attempt.pk,
        other_session.pk,
        classroom.pk,
        other_classroom.pk,
        pair.pk,
        student.pk,
        other_student.pk,
        content.pk,
    ]
    codes = [classroom.join_code, other_classroom.join_code, "ABCDE-FGH23"]
    # (Class B's join code is among the values sent, so a form may echo it: not a secret.)
    secrets = [SECRET_EMAIL, SECRET_CLASS, "student_b"]
    users = {"anonymous": None, "student": student, "instructor": instructor, "admin": admin_user}
    found = {"world": world, "ids": ids, "codes": codes, "secrets": secrets, "users": users}
    # Every page opened once per role before fuzzing: the forms to fuzz are read from
    # them, and no fuzzed GET is then anyone's first view (which may write).
    found["forms"] = forms_by_url_name(found)
    return found


def client_as(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ACTION = re.compile(r'\baction="([^"]*)"')
FIELD = re.compile(r'<(?:input|select|textarea|button)\b[^>]*\bname="([^"]+)"[^>]*>')
VALUE = re.compile(r'\bvalue="([^"]*)"')


#: {URL name: (field names, values)}, read once per run (names are stable; the values'
#: ids are those of the first test's objects, later only "ids that do not exist").
FORMS_SEEN: dict[str, tuple[set[str], set[str]]] = {}


def forms_by_url_name(fuzz_world: dict) -> dict[str, tuple[set[str], set[str]]]:
    """{URL name: (field names, values)} of every form on every page the fuzzing roles
    open: how the site's own pages post to each endpoint."""
    if FORMS_SEEN:
        return FORMS_SEEN
    found = FORMS_SEEN
    for user in fuzz_world["users"].values():
        client = client_as(user)
        for name in url_names():
            url = reverse(name, kwargs=EXPECTED[name].kwargs(fuzz_world["world"]))
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            for attrs, inner in FORM.findall(response.text):
                action = ACTION.search(attrs)
                path = html.unescape(action[1]).split("?")[0] if action and action[1] else url
                try:
                    target = resolve(path).view_name
                except Resolver404:
                    continue
                names, seen = found.setdefault(target, (set(), set()))
                for tag in FIELD.finditer(inner):
                    names.add(html.unescape(tag[1]))
                    if value := VALUE.search(tag[0]):
                        seen.add(html.unescape(value[1]))
    return found


def check(response, before: dict[str, int], secrets: list[str], what: str) -> None:
    STATUSES[response.status_code] += 1
    assert response.status_code < 500, (what, response.status_code)
    if 400 <= response.status_code < 500:
        assert row_counts() == before, (what, response.status_code)
    body = b"".join(response) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    for secret in secrets:
        assert secret not in text, (what, secret)


FUZZ_SETTINGS = settings(
    max_examples=POST_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", url_names())
def test_fuzzed_requests_never_fail_write_on_refusal_or_leak(fuzz_world, name):
    """Every URL, with each method it accepts: POST bodies and GET query strings."""
    world = fuzz_world["world"]
    url = reverse(name, kwargs=EXPECTED[name].kwargs(world))
    user = fuzz_world["users"][role_for(name)]
    own, seen = fuzz_world["forms"].get(name, (set(), set()))
    own, seen = sorted(own - {"csrfmiddlewaretoken"}), sorted(seen)
    probe = client_as(user)
    ids, codes, secrets = fuzz_world["ids"], fuzz_world["codes"], fuzz_world["secrets"]
    accepts_post = probe.post(url).status_code != 405
    accepts_get = probe.get(url).status_code != 405
    assert accepts_post or accepts_get, name
    form = FORMS.get(name)
    form_bodies = (
        from_form(form).map(lambda f: [(k, str(v)) for k, v in f.data.items()])
        if form is not None
        else st.nothing()
    )

    if accepts_post:

        @FUZZ_SETTINGS
        @given(
            pairs=bodies(own, seen, ids, codes) | form_bodies,
            content_type=st.sampled_from(CONTENT_TYPES),
        )
        def post(pairs, content_type):
            EXAMPLES[f"POST {name}"] += 1
            client = client_as(user)
            before = row_counts()
            if content_type == "multipart/form-data":
                data: dict[str, list[str]] = {}
                for key, value in pairs:
                    data.setdefault(key, []).append(value)
                response = client.post(url, data)
            else:
                body, ctype = encode(pairs, content_type)
                response = client.generic("POST", url, body, content_type=ctype)
            check(response, before, secrets, f"POST {name} {content_type}")

        post()

    if accepts_get:

        @settings(FUZZ_SETTINGS, max_examples=GET_EXAMPLES)
        @given(pairs=bodies(own, seen, ids, codes) | form_bodies)
        def get(pairs):
            EXAMPLES[f"GET {name}"] += 1
            client = client_as(user)
            before = row_counts()
            # The probe above already made this user's first view: no GET writes now.
            query: dict[str, list[str]] = {}
            for key, value in pairs:
                query.setdefault(key, []).append(value[:2000])
            response = client.get(url, query)
            check(response, before, secrets, f"GET {name}")

        get()
