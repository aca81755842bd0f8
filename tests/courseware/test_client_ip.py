"""The login lockout behind a proxy (issue 13, finding 1).

django-axes read the client through django-ipware, which was not installed: every client
was the proxy's address, so five bad passwords from one attacker locked the account for
everybody. The client is now read by courseware.client_ip, trusting exactly
CLIENT_IP_PROXY_COUNT proxies (the environment's AXES_PROXY_COUNT).
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from courseware.client_ip import client_ip
from tests.conftest import PASSWORD

PROXY = "10.0.0.2"


def login(username: str, password: str, *, remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post(reverse("login"), {"username": username, "password": password}, **headers)


@pytest.mark.django_db
def test_behind_a_proxy_an_attacker_locks_only_their_own_address(settings, student):
    """Guards the proxy-wide lockout: with one proxy, five failures from the attacker
    behind it lock the account for the attacker's address only; the student, behind the
    same proxy from another address, still logs in."""
    settings.CLIENT_IP_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("student_a", "wrong", remote=PROXY, forwarded="203.0.113.66")
    locked = login("student_a", PASSWORD, remote=PROXY, forwarded="203.0.113.66")
    assert locked.status_code == 429  # axes' lockout page, for the attacker
    student_login = login("student_a", PASSWORD, remote=PROXY, forwarded="198.51.100.7")
    assert student_login.status_code == 302, student_login.status_code


@pytest.mark.django_db
def test_without_a_proxy_a_forged_forwarded_for_changes_nothing(settings, student):
    """Guards against trusting the header when no proxy is configured: the attacker
    cannot dodge their own lockout by sending a new X-Forwarded-For each time."""
    settings.CLIENT_IP_PROXY_COUNT = 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        login("student_a", "wrong", remote="203.0.113.66", forwarded=f"192.0.2.{n}")
    forged = login("student_a", PASSWORD, remote="203.0.113.66", forwarded="192.0.2.200")
    assert forged.status_code == 429
    # Another real address is not locked out.
    assert login("student_a", PASSWORD, remote="198.51.100.7").status_code == 302


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.1", "1.2.3.4", "203.0.113.1"),  # no proxy: the header is ignored
        (1, PROXY, "1.2.3.4", "1.2.3.4"),
        (1, PROXY, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client's own entry is not believed
        (2, PROXY, "6.6.6.6, 1.2.3.4, 10.0.0.1", "1.2.3.4"),
        (2, PROXY, "1.2.3.4", PROXY),  # fewer hops than proxies: not through them all
        (1, PROXY, "not-an-address", PROXY),
        (1, PROXY, "", PROXY),
    ],
)
def test_client_ip_trusts_exactly_the_configured_proxies(
    settings, count, remote, forwarded, expected
):
    settings.CLIENT_IP_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
