"""Rate limits on log-in, sign-up, joining and password reset (issue 13, finding 6).

There was no limit by address (only axes' lockout per username and address): about 11
log-ins a second kept three workers hashing passwords. Each form is now limited by client
address and by target in the configured cache (locmem here, Redis in production with
DJANGO_CACHE_URL), answering 429 with Retry-After and a page that says how long to wait.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.test_bad_input import row_counts

LOW = {
    "login-address": (3, 60),
    "login-account": (3, 900),
    "signup-address": (3, 600),
    "signup-code": (3, 600),
    "join-address": (3, 600),
    "join-account": (3, 600),
    "reset-address": (3, 3600),
    "reset-email": (2, 3600),
}


@pytest.fixture(autouse=True)
def low_limits(settings):
    settings.RATE_LIMITS = LOW
    settings.AXES_FAILURE_LIMIT = 100  # the lockout is tested elsewhere; here the limits


def assert_refused(response, before=None):
    assert response.status_code == 429, response.status_code
    assert int(response["Retry-After"]) > 0
    assert "Too many requests" in response.text
    assert "Please wait" in response.text
    if before is not None:
        assert row_counts() == before


@pytest.mark.django_db
def test_login_is_limited_by_address(content, student):
    """Guards the unlimited log-in: the fourth POST from one address within a minute is
    refused before any password is checked, even with the right password."""
    client = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(3):
        client.post(reverse("login"), {"username": f"someone{n}", "password": "x"})
    assert_refused(client.post(reverse("login"), {"username": "student_a", "password": PASSWORD}))
    # Another address is not affected.
    other = Client(REMOTE_ADDR="203.0.113.6")
    assert (
        other.post(reverse("login"), {"username": "student_a", "password": PASSWORD}).status_code
        == 302
    )


@pytest.mark.django_db
def test_failed_logins_to_one_account_are_limited_across_addresses(content, student):
    """Guards guessing one account's password from many addresses (axes counts per
    address): after three failures from three addresses the fourth address is refused."""
    for n in range(3):
        Client(REMOTE_ADDR=f"203.0.113.{n + 10}").post(
            reverse("login"), {"username": "Student_A", "password": "wrong"}
        )
    assert_refused(
        Client(REMOTE_ADDR="203.0.113.20").post(
            reverse("login"), {"username": "student_a", "password": "wrong"}
        )
    )


@pytest.mark.django_db
def test_successful_logins_do_not_spend_the_accounts_allowance(content, student):
    for n in range(5):
        response = Client(REMOTE_ADDR=f"203.0.113.{n + 30}").post(
            reverse("login"), {"username": "student_a", "password": PASSWORD}
        )
        assert response.status_code == 302


def signup(client: Client, code: str, n: int):
    return client.post(
        reverse("courseware:signup"),
        {
            "join_code": code,
            "username": f"newbie{n}",
            "password1": "pw-long-enough-55",
            "password2": "pw-long-enough-55",
        },
    )


@pytest.mark.django_db
def test_signup_is_limited_by_address_and_writes_nothing_when_refused(classroom):
    client = Client(REMOTE_ADDR="203.0.113.40")
    for n in range(3):
        signup(client, "WRONG-CODE1", n)
    before = row_counts()
    assert_refused(signup(client, classroom.join_code, 9), before)


@pytest.mark.django_db
def test_signup_is_limited_by_join_code(classroom):
    for n in range(3):
        assert (
            signup(Client(REMOTE_ADDR=f"203.0.113.{50 + n}"), classroom.join_code, n).status_code
            == 302
        )
    before = row_counts()
    assert_refused(signup(Client(REMOTE_ADDR="203.0.113.60"), classroom.join_code, 3), before)


@pytest.mark.django_db
def test_join_is_limited_by_account(client, student, classroom):
    client.force_login(student)
    for _ in range(3):
        client.post(
            reverse("courseware:join"), {"join_code": "NOPE-NOPE1"}, REMOTE_ADDR="203.0.113.70"
        )
    assert_refused(
        client.post(
            reverse("courseware:join"),
            {"join_code": classroom.join_code},
            REMOTE_ADDR="203.0.113.71",
        )
    )


@pytest.mark.django_db
def test_password_reset_is_limited_by_email_and_sends_no_more_mail(content, student):
    """Guards mail-bombing one address through password reset."""
    for n in range(2):
        Client(REMOTE_ADDR=f"203.0.113.{80 + n}").post(
            reverse("password_reset"), {"email": "student_a@example.com"}
        )
    sent = len(mail.outbox)
    assert sent == 2
    assert_refused(
        Client(REMOTE_ADDR="203.0.113.90").post(
            reverse("password_reset"), {"email": "STUDENT_A@example.com"}
        )
    )
    assert len(mail.outbox) == sent


@pytest.mark.django_db
def test_password_reset_is_limited_by_address(content):
    client = Client(REMOTE_ADDR="203.0.113.100")
    for n in range(3):
        client.post(reverse("password_reset"), {"email": f"x{n}@example.com"})
    assert_refused(client.post(reverse("password_reset"), {"email": "y@example.com"}))


@pytest.mark.django_db
def test_the_limit_follows_the_forwarded_client_behind_a_proxy(settings, content):
    """Behind one proxy the limit is per client, not per proxy: one noisy client does not
    block the others behind the same proxy."""
    settings.CLIENT_IP_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for n in range(3):
        proxy.post(
            reverse("login"),
            {"username": f"a{n}", "password": "x"},
            HTTP_X_FORWARDED_FOR="198.51.100.1",
        )
    noisy = proxy.post(
        reverse("login"), {"username": "b", "password": "x"}, HTTP_X_FORWARDED_FOR="198.51.100.1"
    )
    assert noisy.status_code == 429
    quiet = proxy.post(
        reverse("login"), {"username": "b", "password": "x"}, HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert quiet.status_code == 400


@pytest.mark.django_db
def test_page_views_are_not_counted(client, content):
    for _ in range(10):
        assert client.get(reverse("login")).status_code == 200
        assert client.get(reverse("courseware:signup")).status_code == 200
