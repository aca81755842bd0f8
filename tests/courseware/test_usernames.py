"""One name per person (issue 13, findings 4 and 5).

Case-insensitive uniqueness was checked in the form only (twenty concurrent case variants
made three accounts), look-alike letters from other alphabets were accepted (Cyrillic
"studentО1" next to "student01"), and sign-up said "That username is taken" before it
checked the join code, so names could be listed without one.
"""

from __future__ import annotations

import itertools
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connections, transaction
from django.test import Client
from django.urls import reverse

from tests.test_bad_input import row_counts

User = get_user_model()


def signup_body(code: str, username: str) -> dict[str, str]:
    return {
        "join_code": code,
        "username": username,
        "password1": "pw-long-enough-91",
        "password2": "pw-long-enough-91",
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_case_variant_signups_make_one_account(content, classroom):
    """Guards the race: twenty sign-ups of case variants of one name, sent at once from
    twenty addresses, make exactly one account; the rest are told the name is taken."""
    code = classroom.join_code
    variants = [
        "".join(chars)
        for chars in itertools.islice(itertools.product(*[(c, c.upper()) for c in "casey"]), 20)
    ]
    barrier = threading.Barrier(len(variants))
    statuses: list[int] = []

    def sign_up(n: int, name: str) -> None:
        try:
            client = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
            barrier.wait(timeout=30)
            statuses.append(
                client.post(reverse("courseware:signup"), signup_body(code, name)).status_code
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(n, name)) for n, name in enumerate(variants)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert User.objects.filter(username__iexact="casey").count() == 1
    assert sorted(statuses) == [302] + [400] * (len(variants) - 1)


@pytest.mark.django_db
def test_the_database_refuses_a_case_variant_however_it_is_written(make_user):
    """The unique index on LOWER(username), below every form and service."""
    make_user("Student_Z")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="student_z")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["studentО1", "studént01", "学生01", "ꓢtudent01"])
def test_signup_refuses_names_outside_ascii(client, classroom, name):
    """Guards look-alike names: only ASCII letters, digits and @ . + - _ are accepted, and
    the form says so."""
    before = row_counts()
    response = client.post(reverse("courseware:signup"), signup_body(classroom.join_code, name))
    assert response.status_code == 400
    assert "Use only the English letters a–z and A–Z" in response.text
    assert row_counts() == before


@pytest.mark.django_db
def test_fullwidth_letters_are_normalised_to_ascii(client, classroom, make_user):
    """NFKC first: "ｓｔｕｄｅｎｔ01" is "student01", so it clashes with the real one."""
    make_user("student01")
    response = client.post(
        reverse("courseware:signup"), signup_body(classroom.join_code, "ｓｔｕｄｅｎｔ01")
    )
    assert response.status_code == 400
    assert "That username is taken" in response.text


@pytest.mark.django_db
def test_signup_page_states_the_username_rule(client, content):
    response = client.get(reverse("courseware:signup"))
    assert "English letters a–z and A–Z, digits and @ . + - _ only" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["", "NOT-A-CODE", "ZZZZZ-ZZZZZ"])
def test_signup_without_a_valid_code_says_nothing_about_the_name(client, student, code):
    """Guards username enumeration: with a wrong code, a taken name and a free one get the
    same answer (the code's error only)."""
    taken = client.post(reverse("courseware:signup"), signup_body(code, "student_a"))
    free = client.post(reverse("courseware:signup"), signup_body(code, "nobody_has_this"))
    assert taken.status_code == free.status_code == 400
    assert "That username is taken" not in taken.text
    assert "already exists" not in taken.text
    assert errors(taken.text) == errors(free.text)
    assert errors(taken.text)  # the code's own error is shown


def errors(page: str) -> list[str]:
    """The error messages a form page shows, in order."""
    return re.findall(r'<div class="field-error" id="(\w+)_error">(.*?)</div>', page, re.S)


@pytest.mark.django_db
def test_with_a_valid_code_a_taken_name_in_any_case_is_refused(client, student, classroom):
    response = client.post(
        reverse("courseware:signup"), signup_body(classroom.join_code, "STUDENT_A")
    )
    assert response.status_code == 400
    assert "That username is taken" in response.text
