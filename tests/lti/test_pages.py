"""Framing, cookies, the JWKS, the setup page and the learner's grade page."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from lti.models import ToolKey
from tests.lti.conftest import launch

CUSTOM = {"course": "language-models", "module": "post-training"}
MODULE_URL = "/courses/language-models/post-training/"


def test_ordinary_sessions_may_not_be_framed(student_client, content, lms, platform):
    response = student_client.get(MODULE_URL)
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_a_launched_session_may_be_framed_by_its_lms_only(client, lms, platform, content):
    response = launch(client, lms, custom=CUSTOM)
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["samesite"] == "None" and session_cookie["secure"]
    page = client.get(MODULE_URL)
    assert f"frame-ancestors 'self' {lms.base};" in page["Content-Security-Policy"] + ";"
    assert "X-Frame-Options" not in page
    # Everything else in the policy stays as strict as on any page.
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "form-action 'self';" in page["Content-Security-Policy"] + ";"
    csrf = page.cookies.get("csrftoken")
    if csrf is not None:  # set (rotated) on this response: it must come back from the frame
        assert csrf["samesite"] == "None"


def test_forms_in_a_launched_session_still_need_their_csrf_token(lms, platform, content):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    launch(client, lms, custom=CUSTOM)
    response = client.post(reverse("quiz:start", kwargs=CUSTOM))
    assert response.status_code == 403
    assert "This form has expired" in response.text


def test_the_login_endpoint_may_be_framed_by_registered_platforms(client, lms, platform):
    response = client.post(reverse("lti:login"), lms.login_params("student-1"))
    assert response.status_code == 200  # the cookie check comes first
    assert f"frame-ancestors 'self' {lms.base}" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response
    assert "Open the course in a new window" in response.text
    assert "lti1p3_new_window=1" in response.text
    # No inline script: the check is a static file.
    assert "<script>" not in response.text


def test_jwks_publishes_public_keys_only(client, lms):
    keys = client.get(reverse("lti:jwks")).json()["keys"]
    assert len(keys) == 1
    assert {"kty", "n", "e", "kid", "alg"} <= set(keys[0])
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])


def test_generating_a_key_never_prints_the_private_key(db):
    out = io.StringIO()
    call_command("lti_generate_key", stdout=out)
    key = ToolKey.objects.get()
    assert key.kid in out.getvalue()
    assert "PRIVATE" not in out.getvalue()
    assert key.private_key.startswith("-----BEGIN PRIVATE KEY-----")


def test_the_admin_does_not_show_the_private_key(admin_client, lms):
    key = ToolKey.objects.get()
    page = admin_client.get(reverse("admin:lti_toolkey_change", args=[key.pk]))
    assert page.status_code == 200
    assert "PRIVATE KEY" not in page.text
    assert key.private_key[40:80] not in page.text


def test_setup_page_lists_the_urls_to_paste(admin_client, lms, platform):
    page = admin_client.get(reverse("lti:setup"))
    assert page.status_code == 200
    for name in ("lti:login", "lti:launch", "lti:jwks"):
        assert "http://testserver" + reverse(name) in page.text
    assert lms.deployment_id in page.text


def test_setup_page_is_for_staff_only(instructor_client):
    assert instructor_client.get(reverse("lti:setup")).status_code == 403


def test_grades_page_for_a_learner_not_from_an_lms(student_client):
    page = student_client.get(reverse("lti:grades"))
    assert "not opened this course from an LMS" in page.text


@pytest.mark.parametrize("pk", [987654])
def test_another_or_missing_class_lms_page_is_404(instructor_client, pk):
    assert instructor_client.get(reverse("lti:classroom", kwargs={"pk": pk})).status_code == 404


def test_a_learner_from_an_lms_finds_their_grade_report_on_the_module_page(launched_student):
    page = launched_student.get(MODULE_URL)
    assert "Your grade in Test LMS" in page.text
    assert reverse("lti:grades") in page.text


def test_other_learners_see_no_lms_panel(student_client, content):
    assert "Your grade in" not in student_client.get(MODULE_URL).text


def test_instructors_launched_from_an_lms_see_no_grade_panel(client, lms, platform, content):
    launch(client, lms, sub="teacher-1", instructor=True, custom=CUSTOM)
    page = client.get(MODULE_URL)
    assert page.status_code == 200 and "Your grade in" not in page.text
