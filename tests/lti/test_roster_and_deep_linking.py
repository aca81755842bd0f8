"""Roster sync from the LMS (NRPS) and the deep-linking round trip."""

from __future__ import annotations

import jwt
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courseware.models import Enrollment, Section
from lti import services
from lti.models import LtiContext, LtiUser, Membership, ResourceLink
from tests.lti.conftest import launch
from tests.lti.platform import ROLE_INSTRUCTOR, ROLE_LEARNER

User = get_user_model()
CUSTOM = {"course": "language-models", "module": "post-training"}
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def member(sub, name, *, role=ROLE_LEARNER, status="Active", email=""):
    return {"user_id": sub, "name": name, "email": email, "roles": [role], "status": status}


def test_instructor_syncs_the_roster_and_sees_who_has_not_started(client, lms, platform, content):
    launch(Client(), lms, custom=CUSTOM)  # Ada launched before the sync
    launch(client, lms, sub="teacher-1", name="Tess Teacher", instructor=True, custom=CUSTOM)
    lms.members.extend(
        [
            member("teacher-1", "Tess Teacher", role=ROLE_INSTRUCTOR),
            member("student-1", "Ada Lovelace"),
            member("student-2", "Blaise Pascal", email="blaise@example.org"),
            member("student-3", "Carl Gauss", status="Inactive"),
        ]
    )
    context = LtiContext.objects.get()
    url = reverse("lti:roster-sync", kwargs={"pk": context.classroom_id})
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "Roster synced: 4 members, 2 new, 1 inactive" in response.text
    blaise = LtiUser.objects.get(sub="student-2")
    assert blaise.user.email == "blaise@example.org"
    assert Enrollment.objects.filter(classroom=context.classroom, student=blaise.user).exists()
    assert Membership.objects.get(lti_user=blaise).first_launch_at is None
    assert not Enrollment.objects.filter(student__lti_links__sub="student-3").exists()
    page = response.text
    assert "Blaise Pascal" in page and "Not started" in page and "Inactive in the LMS" in page
    # Syncing again changes nothing.
    client.post(url)
    assert LtiUser.objects.count() == 4
    # The class page links here.
    classroom_page = client.get(
        reverse("courseware:classroom", kwargs={"pk": context.classroom_id})
    )
    assert reverse("lti:classroom", kwargs={"pk": context.classroom_id}) in classroom_page.text


def test_a_roster_sync_costs_the_same_queries_for_3_or_300_new_members(lms, platform, content):
    launch(Client(), lms, sub="teacher-1", name="Tess Teacher", instructor=True, custom=CUSTOM)
    context = LtiContext.objects.select_related("platform", "classroom").get()
    few = [member(f"s-{i}", f"Small {i}") for i in range(3)]
    many = [member(f"m-{i}", f"Many {i}", email=f"m{i}@example.org") for i in range(300)]

    def sync(members, *, new: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            result = services.roster_apply(context=context, members=members)
        assert (result.members, result.new_accounts) == (len(members), new)
        return len(queries)

    # Each sync: the teacher (renamed, known), new learners; the second also known ones.
    small = sync([member("teacher-1", "Tess T", role=ROLE_INSTRUCTOR), *few], new=3)
    large = sync([member("teacher-1", "Tess Teach", role=ROLE_INSTRUCTOR), *few, *many], new=300)
    assert small == large <= 25, (small, large)
    assert context.classroom.enrollments.count() == 303
    assert LtiUser.objects.get(sub="teacher-1").user.first_name == "Tess"
    assert LtiUser.objects.get(sub="teacher-1").user.last_name == "Teach"
    assert Membership.objects.filter(context=context, first_launch_at__isnull=True).count() == 303


def test_a_roster_member_who_launched_meanwhile_keeps_one_account(
    lms, platform, content, monkeypatch
):
    """A first launch that links a member while the sync makes their account wins; the
    sync's spare account is removed."""
    launch(Client(), lms, sub="teacher-1", instructor=True, custom=CUSTOM)
    context = LtiContext.objects.select_related("platform", "classroom").get()
    real_new_users = services._new_local_users

    def launch_first(members):
        made = real_new_users(members)
        launch(Client(), lms, sub="student-7", name="Quick Launcher", custom=CUSTOM)
        return made

    accounts_before = User.objects.count()
    monkeypatch.setattr(services, "_new_local_users", launch_first)
    result = services.roster_apply(context=context, members=[member("student-7", "Quick")])
    assert result.new_accounts == 0
    assert User.objects.count() == accounts_before + 1
    link = LtiUser.objects.get(sub="student-7")
    assert Enrollment.objects.filter(classroom=context.classroom, student=link.user).exists()


def test_a_roster_sync_while_the_lms_is_down_changes_nothing(client, lms, platform, content):
    launch(client, lms, sub="teacher-1", instructor=True, custom=CUSTOM)
    lms.members.append(member("student-9", "Nobody Yet"))
    lms.down = True
    context = LtiContext.objects.get()
    response = client.post(
        reverse("lti:roster-sync", kwargs={"pk": context.classroom_id}), follow=True
    )
    assert "did not send the roster" in response.text
    assert not LtiUser.objects.filter(sub="student-9").exists()
    assert LtiContext.objects.get().roster_synced_at is None


def test_only_the_class_instructors_may_sync(lms, platform, content, other_instructor, student):
    launch(Client(), lms, sub="teacher-1", instructor=True, custom=CUSTOM)
    context = LtiContext.objects.get()
    url = reverse("lti:roster-sync", kwargs={"pk": context.classroom_id})
    for user, status in ((other_instructor, 404), (student, 403)):
        client = Client()
        client.force_login(user)
        assert client.post(url).status_code == status
    assert context.classroom.enrollments.count() == 0


def test_deep_linking_round_trip_places_only_the_quiz(client, lms, platform, content):
    response = launch(client, lms, sub="teacher-1", instructor=True, deep_linking=True)
    assert response.status_code == 302
    picker = client.get(response.url)
    assert picker.status_code == 200
    assert "The whole module" in picker.text
    quiz = Section.objects.get(module=content, url_name="quiz:quiz")
    reply = client.post(response.url, {"target": f"section:{quiz.pk}"})
    assert reply.status_code == 200
    assert f'action="{lms.url("/deep_link_return")}"' in reply.text
    csp = reply["Content-Security-Policy"]
    assert f"form-action 'self' {lms.base}" in csp
    assert f"frame-ancestors 'self' {lms.base}" in csp
    token = reply.text.split('name="JWT" value="')[1].split('"')[0]
    body = lms.decode_tool_jwt(token, audience=lms.issuer)
    assert body["iss"] == lms.client_id
    assert body["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
        "LtiDeepLinkingResponse"
    )
    assert body[DL + "data"] == "opaque-platform-data"
    (item,) = body[DL + "content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == lms.tool_launch_url
    assert item["custom"] == CUSTOM | {"section": "quiz"}
    assert item["lineItem"]["scoreMaximum"] == 5
    assert jwt.get_unverified_header(token)["kid"] == lms.tool_jwks["keys"][0]["kid"]
    # The picker answers once: a replayed POST finds it closed.
    assert client.post(response.url, {"target": f"section:{quiz.pk}"}).status_code == 404
    # A learner launching the placed link lands on the quiz.
    learner = launch(Client(), lms, resource_link="placed-1", custom=item["custom"])
    assert learner.url == quiz.get_absolute_url()
    assert ResourceLink.objects.get(resource_link_id="placed-1").section == quiz


def test_learners_cannot_open_the_content_picker(client, lms, platform, content):
    response = launch(client, lms, deep_linking=True)
    assert response.status_code == 403
    assert "Only instructors" in response.text


def test_the_picker_refuses_a_bad_choice_and_another_session(client, lms, platform, content):
    response = launch(client, lms, sub="teacher-1", instructor=True, deep_linking=True)
    for bad in ({}, {"target": "section:999999"}, {"target": "module:abc"}, {"target": "x"}):
        answer = client.post(response.url, bad)
        assert answer.status_code == 400 and 'role="alert"' in answer.text
    stranger = Client()
    stranger.force_login(User.objects.create_user("mallory"))
    assert stranger.get(response.url).status_code == 404
