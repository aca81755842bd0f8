"""Sign-up with a join code, joining more classes, login lockout, password reset."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from courseware.models import Enrollment, format_join_code
from tests.conftest import PASSWORD

User = get_user_model()


def signup_data(code: str, username: str = "newlearner") -> dict:
    return {
        "join_code": code,
        "username": username,
        "email": "",
        "password1": "violet-kettle-orbit-19",
        "password2": "violet-kettle-orbit-19",
    }


@pytest.mark.django_db
def test_signup_with_good_code_creates_enrolled_student_and_logs_in(client, classroom):
    # People type codes in lower case with spaces or dashes.
    typed = format_join_code(classroom.join_code).lower().replace("-", " ")
    response = client.post(reverse("courseware:signup"), signup_data(typed))
    assert response.status_code == 302
    user = User.objects.get(username="newlearner")
    assert Enrollment.objects.filter(student=user, classroom=classroom).exists()
    assert client.get(reverse("courseware:join")).wsgi_request.user == user


@pytest.mark.django_db
def test_signup_with_wrong_code_is_rejected_and_creates_nothing(client, classroom):
    response = client.post(reverse("courseware:signup"), signup_data("ZZZZZZZZZZ"))
    assert response.status_code == 400
    assert "does not match any class" in response.text
    assert not User.objects.filter(username="newlearner").exists()
    assert Enrollment.objects.count() == 0


@pytest.mark.django_db
def test_signup_with_expired_code_is_rejected_and_creates_nothing(client, classroom):
    classroom.join_code_expires_at = timezone.now() - timedelta(minutes=1)
    classroom.save()
    response = client.post(reverse("courseware:signup"), signup_data(classroom.join_code))
    assert response.status_code == 400
    assert "has expired" in response.text
    assert not User.objects.filter(username="newlearner").exists()


@pytest.mark.django_db
def test_signup_with_taken_username_is_rejected(client, classroom, student):
    response = client.post(
        reverse("courseware:signup"), signup_data(classroom.join_code, username="STUDENT_A")
    )
    assert response.status_code == 400
    assert "That username is taken" in response.text
    assert User.objects.filter(username__iexact="student_a").count() == 1


@pytest.mark.django_db
def test_signup_with_weak_or_mismatched_password_is_rejected(client, classroom):
    data = signup_data(classroom.join_code)
    data["password2"] = "something-else-entirely"
    assert client.post(reverse("courseware:signup"), data).status_code == 400
    data = signup_data(classroom.join_code) | {"password1": "12345678", "password2": "12345678"}
    response = client.post(reverse("courseware:signup"), data)
    assert response.status_code == 400
    assert not User.objects.exists()


@pytest.mark.django_db
def test_code_reused_by_a_second_student_admits_both(client, classroom):
    client.post(reverse("courseware:signup"), signup_data(classroom.join_code, "first"))
    client.logout()
    client.post(reverse("courseware:signup"), signup_data(classroom.join_code, "second"))
    assert classroom.enrollments.count() == 2


@pytest.mark.django_db
def test_student_joins_a_second_class_and_joining_twice_is_harmless(
    student_client, student, other_classroom
):
    url = reverse("courseware:join")
    assert student_client.post(url, {"join_code": other_classroom.join_code}).status_code == 302
    assert student_client.post(url, {"join_code": other_classroom.join_code}).status_code == 302
    assert Enrollment.objects.filter(student=student).count() == 2


@pytest.mark.django_db
def test_join_with_malformed_code_answers_400(student_client, student):
    response = student_client.post(reverse("courseware:join"), {"join_code": "<script>"})
    assert response.status_code == 400
    assert Enrollment.objects.filter(student=student).count() == 1


@pytest.mark.django_db
def test_login_locks_out_after_repeated_failures_and_says_so(client, student):
    url = reverse("login")
    for _ in range(5):
        response = client.post(url, {"username": "student_a", "password": "wrong"})
    response = client.post(url, {"username": "student_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_recovers_after_the_cool_off(client, student, settings):
    url = reverse("login")
    for _ in range(5):
        client.post(url, {"username": "student_a", "password": "wrong"})
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1))
    response = client.post(url, {"username": "student_a", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(student.pk)


@pytest.mark.django_db
def test_login_rotates_the_session_and_logout_ends_it(client, student):
    client.get(reverse("login"))
    client.cookies["sessionid"] = "attacker-fixed-session"
    client.post(reverse("login"), {"username": "student_a", "password": PASSWORD})
    session_key = client.cookies["sessionid"].value
    assert session_key != "attacker-fixed-session"
    client.post(reverse("logout"))
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get(reverse("courseware:join")).status_code == 302


@pytest.mark.django_db
def test_password_reset_sends_a_working_link(client, student):
    response = client.post(reverse("password_reset"), {"email": student.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # Django swaps the token for a session marker
    new_password = "quiet-harbour-lantern-77"
    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    student.refresh_from_db()
    assert student.check_password(new_password)


@pytest.mark.django_db
def test_password_change_requires_the_old_password(student_client, student):
    response = student_client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "x-y-z-long-pass-1",
            "new_password2": "x-y-z-long-pass-1",
        },
    )
    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.text
    student.refresh_from_db()
    assert student.check_password(PASSWORD)
