"""Requests that answered 500 in the attack run (issue 13, finding 2): each is now a
readable 4xx with nothing written. Numbers from a request go through one strict parser
(courseware.numbers)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from courseware.numbers import parse_decimal, parse_int
from tests.test_bad_input import row_counts

MODULE = {"course": "language-models", "module": "post-training"}


@pytest.mark.parametrize(
    "raw",
    ["²", "٣", "１", "1_000", " ", "", "1.0", "1e3", "0x1", "-1", "+1", "9" * 19, "9" * 5000, None],
)
def test_parse_int_refuses_everything_but_ascii_digits_of_bounded_length(raw):
    """Guards the helper itself: '²'.isdigit() is true, int('٣') is 3, int('9'*5000)
    raises; none of them is a number here."""
    assert parse_int(raw) is None


def test_parse_int_reads_plain_numbers_and_signs_only_when_asked():
    assert parse_int("42") == 42
    assert parse_int(" 7 ") == 7
    assert parse_int("-3", signed=True) == -3
    assert parse_int("5", minimum=1, maximum=4) is None
    assert parse_int("9" * 18) == int("9" * 18)


@pytest.mark.parametrize("raw", ["nan", "inf", "1e999", "٣.5", "1.2.3", "", "-0.5", "." * 3])
def test_parse_decimal_refuses_non_plain_decimals(raw):
    assert parse_decimal(raw) is None


def test_parse_decimal_reads_plain_decimals():
    assert parse_decimal("0.7") == 0.7
    assert parse_decimal(".5") == 0.5
    assert parse_decimal("-2", signed=True) == -2.0


@pytest.mark.django_db
def test_login_with_a_username_longer_than_the_lockout_column_is_a_form_error(content):
    """Guards the 500 from a 256+ character username: axes wrote it to a 255-character
    column. Now the form refuses it before authentication; nothing is written."""
    before = row_counts()
    from axes.models import AccessAttempt

    response = Client().post(reverse("login"), {"username": "u" * 300, "password": "x"})
    assert response.status_code == 400
    assert "No account has a username that long" in response.text
    assert row_counts() == before
    assert AccessAttempt.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=latin-1",
    ],
)
@pytest.mark.parametrize("path", ["/accounts/login/", "/signup/", "/no-such-page/"])
def test_a_form_in_another_charset_is_a_400_not_a_500(content, content_type, path):
    """Guards the 500 from Django's default 400/404 handlers, which run the CSRF check
    again and so re-read a body that could not be read: the site's own handlers never
    touch the body."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    before = row_counts()
    response = client.post(
        path, data=f"csrfmiddlewaretoken={token}&username=a&password=b", content_type=content_type
    )
    assert response.status_code in (400, 404), response.status_code
    assert "<h1>" in response.text
    if response.status_code == 400:
        assert "UTF-8" in response.text  # says what was wrong
    assert row_counts() == before


@pytest.fixture
def attempt(content, student):
    from quiz import services as quiz_services
    from quiz.models import Quiz

    return quiz_services.attempt_start(user=student, quiz=Quiz.objects.get(module=content))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"q1": "²", "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
        {"q²": "1", "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
        {"q1": "9" * 5000, "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
        {"q" + "9" * 5000: "1"},
        {"q1": "٣", "q2": "1", "q3": "1", "q4": "1", "q5": "1"},
    ],
)
def test_quiz_submit_with_odd_numbers_is_refused(client, student, attempt, body):
    """Guards the 500s from '²'.isdigit() being true and from Python's integer-string
    limit: the submit is refused, nothing graded."""
    client.raise_request_exception = False
    client.force_login(student)
    before = row_counts()
    url = reverse("quiz:submit", kwargs=MODULE | {"pk": attempt.pk})
    response = client.post(url, body)
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["²", "٣", "9" * 5000, "1.0"])
def test_stage_guess_get_with_an_odd_round_is_a_400(client, content, student, query):
    """Guards the 500 from GET …/compare/guess/?response=²."""
    client.raise_request_exception = False
    client.force_login(student)
    url = reverse("courseware:compare-guess", kwargs=MODULE)
    response = client.get(url, {"response": query})
    assert response.status_code == 400
    assert "That round is not one we know" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["5.0", "²", "9" * 5000, "٣"])
def test_stage_guess_post_with_an_odd_round_is_a_400_and_writes_nothing(
    client, content, student, value
):
    """Guards the 500 from POST response=5.0&guess=base (the form accepted "5.0", the
    view's int() did not)."""
    client.raise_request_exception = False
    client.force_login(student)
    before = row_counts()
    url = reverse("courseware:compare-guess", kwargs=MODULE)
    response = client.post(url, {"response": value, "guess": "base"})
    assert response.status_code == 400
    assert "That round is not one we know" in response.text
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("seed", ["٣", "1e3", "9" * 5000])
def test_sampling_seed_must_be_ascii_digits(client, content, student, seed):
    client.force_login(student)
    url = reverse("courseware:pretraining", kwargs=MODULE)
    response = client.get(url, {"start": "In the", "seed": seed})
    assert response.status_code == 400
    assert "The seed must be a whole number" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target", ["0", "courseware:home", "//evil.example/", "https://evil.example/"]
)
def test_privacy_toggle_redirects_only_to_a_path_of_this_site(client, instructor, target):
    """Found by the fuzzing (tests/test_fuzz.py): next=0 was tried as a URL name by
    redirect() and answered 500."""
    client.raise_request_exception = False
    client.force_login(instructor)
    response = client.post(reverse("courseware:privacy"), {"hide": "1", "next": target})
    assert response.status_code == 302
    assert response.url == reverse("courseware:teach")
