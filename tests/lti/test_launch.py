"""Launches from the test LMS: who is signed in, where they land, and what is refused."""

from __future__ import annotations

import time

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from courseware.models import Classroom, Enrollment
from courseware.roles import is_instructor
from lti.models import LaunchValue, LtiContext, LtiUser, Membership, ResourceLink
from tests.lti.conftest import launch, post_launch, start_login
from tests.lti.platform import new_rsa_key

User = get_user_model()
MODULE_URL = "/courses/language-models/post-training/"
CUSTOM = {"course": "language-models", "module": "post-training"}

# A refused launch may leave only these behind: the session, and handshake rows.
VOLATILE = {"sessions.session", "lti.launchvalue"}


def row_counts() -> dict[str, int]:
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label_lower not in VOLATILE
    }


def signed_in_user(client: Client):
    response = client.get(reverse("courseware:continue"))
    return response.wsgi_request.user


def test_student_launch_signs_in_a_new_linked_account_and_opens_the_module(
    client, lms, platform, content
):
    response = launch(client, lms, custom=CUSTOM)
    assert response.status_code == 302
    assert response.url == MODULE_URL
    link = LtiUser.objects.select_related("user").get(platform=platform, sub="student-1")
    user = link.user
    assert (link.name, link.email) == ("Ada Lovelace", "ada@example.org")
    assert (user.first_name, user.last_name, user.email) == ("Ada", "Lovelace", "ada@example.org")
    assert user.username.startswith("ada-lovelace-")
    assert not user.has_usable_password()
    context = LtiContext.objects.get(platform=platform, context_id="course-1")
    assert context.classroom.name == "Physics 101"
    assert Enrollment.objects.filter(classroom=context.classroom, student=user).exists()
    assert Membership.objects.get(context=context, lti_user=link).first_launch_at is not None
    resource = ResourceLink.objects.get(context=context, resource_link_id="link-1")
    assert resource.lineitem_url == lms.lineitem_url(1)
    assert client.get(MODULE_URL).status_code == 200
    assert signed_in_user(client) == user


def test_a_link_to_one_section_opens_that_section(client, lms, platform, content):
    response = launch(client, lms, custom=CUSTOM | {"section": "quiz"})
    assert response.url == "/courses/language-models/post-training/quiz/"


def test_a_second_launch_reuses_the_account_and_class(client, lms, platform, content):
    launch(client, lms, custom=CUSTOM)
    other = Client()
    response = launch(other, lms, custom=CUSTOM, name="Ada King", email="ada.king@example.org")
    assert response.status_code == 302
    assert LtiUser.objects.count() == 1 and Classroom.objects.count() == 1
    assert User.objects.get(lti_links__sub="student-1").email == "ada.king@example.org"


def test_instructor_launch_lands_on_the_class_view_as_its_instructor(
    client, lms, platform, content
):
    response = launch(
        client, lms, sub="teacher-1", name="Tess Teacher", instructor=True, custom=CUSTOM
    )
    context = LtiContext.objects.get(context_id="course-1")
    assert response.url == reverse("courseware:classroom", kwargs={"pk": context.classroom_id})
    user = LtiUser.objects.get(sub="teacher-1").user
    assert context.classroom.instructors.filter(pk=user.pk).exists()
    assert user.groups.filter(name="Instructors").exists()
    assert is_instructor(user)
    assert client.get(response.url).status_code == 200
    assert not Enrollment.objects.filter(student=user).exists()


def test_a_launch_never_takes_over_a_local_account_with_the_same_email(
    client, lms, platform, content, make_user
):
    alice = make_user("alice")
    alice.email = "ada@example.org"
    alice.save()
    response = launch(client, lms, custom=CUSTOM)
    assert response.status_code == 302
    user = signed_in_user(client)
    assert user != alice and user.email == "ada@example.org"
    assert not LtiUser.objects.filter(user=alice).exists()
    alice.refresh_from_db()
    assert alice.has_usable_password()


def test_a_launch_signs_out_whoever_was_signed_in(client, lms, platform, content, make_user):
    alice = make_user("alice")
    client.force_login(alice)
    launch(client, lms, custom=CUSTOM)
    assert signed_in_user(client) != alice
    assert not LtiUser.objects.filter(user=alice).exists()


# ------------------------------------------------------------------ refused launches


def refused(client, lms, token, state, *, status=400, text="", anonymous=True):
    before = row_counts()
    response = post_launch(client, token, state)
    assert response.status_code == status, response.content
    assert 'role="alert"' in response.text
    if text:
        assert text in response.text
    assert row_counts() == before
    if anonymous:
        assert not signed_in_user(client).is_authenticated
    return response


def test_bad_signature_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    other_key, _ = new_rsa_key()
    token = lms.sign(lms.claims(nonce=handshake.nonce, custom=CUSTOM), key=other_key)
    refused(client, lms, token, handshake.state, text="Signature verification failed")
    # A nonce is spent only once every check has passed: a forgery cannot burn it.
    assert LaunchValue.objects.filter(key__contains=handshake.nonce).exists()


def test_wrong_audience_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    token = lms.id_token(nonce=handshake.nonce, aud="another-tool")
    refused(client, lms, token, handshake.state, text="Registration not found")


def test_an_audience_list_with_another_authorized_party_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    token = lms.id_token(nonce=handshake.nonce, aud=[lms.client_id, "x"], azp="x")
    refused(client, lms, token, handshake.state, text="azp")


def test_expired_token_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    past = int(time.time()) - 600
    token = lms.id_token(nonce=handshake.nonce, iat=past, exp=past + 60)
    refused(client, lms, token, handshake.state, text="expired")


def test_unknown_deployment_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    token = lms.id_token(
        nonce=handshake.nonce,
        **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "not-registered"},
    )
    refused(client, lms, token, handshake.state, text="not recognised")


def test_a_nonce_the_tool_did_not_issue_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    token = lms.id_token(nonce="made-up-nonce")
    refused(client, lms, token, handshake.state, text="Invalid Nonce")


def test_a_replayed_launch_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    token = lms.id_token(nonce=handshake.nonce, custom=CUSTOM)
    assert post_launch(client, token, handshake.state).status_code == 302
    # The same browser (its state and session cookies intact) posts it again.
    refused(client, lms, token, handshake.state, text="Invalid Nonce", anonymous=False)


def test_a_launch_in_another_browser_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    token = lms.id_token(nonce=handshake.nonce, custom=CUSTOM)
    # No state or session cookie: the browser that started the login is not this one.
    refused(Client(), lms, token, handshake.state, status=403, text="cookies")


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.e30.e30"])
def test_malformed_tokens_are_refused(client, lms, platform, content, token):
    handshake = start_login(client, lms)
    refused(client, lms, token, handshake.state)


def test_a_launch_without_a_course_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    token = lms.id_token(
        nonce=handshake.nonce, **{"https://purl.imsglobal.org/spec/lti/claim/context": None}
    )
    refused(client, lms, token, handshake.state, text="names no course")


def test_a_link_to_a_module_that_does_not_exist_is_refused(client, lms, platform, content):
    handshake = start_login(client, lms)
    token = lms.id_token(nonce=handshake.nonce, custom={"module": "no-such-module"})
    refused(client, lms, token, handshake.state, text="does not exist")


def test_an_inactive_platform_cannot_log_in(client, lms, platform, content):
    platform.is_active = False
    platform.save()
    response = client.get(reverse("lti:login"), lms.login_params("x") | {"lti1p3_new_window": "1"})
    assert response.status_code == 400
    assert "Could not find registration" in response.text


def test_login_without_an_issuer_is_refused(client, lms, platform):
    response = client.post(reverse("lti:login"), {"login_hint": "x", "lti1p3_new_window": "1"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text


def test_launches_and_roster_rows_leave_the_content_version_alone(client, lms, platform, content):
    """LTI's tables are not course content: a login, a launch and what it binds must not
    make every server rebuild the content it keeps in memory (courseware.content)."""
    from courseware import content as course_content
    from lti.apps import LtiConfig

    lti_models = {model.__name__ for model in apps.get_app_config("lti").get_models()}
    assert lti_models == LtiConfig.learner_models
    before = course_content.version()
    assert launch(client, lms, custom=CUSTOM).status_code == 302
    assert launch(Client(), lms, sub="teacher-1", instructor=True, custom=CUSTOM).status_code == 302
    assert course_content.version() == before
