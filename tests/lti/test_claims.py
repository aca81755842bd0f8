"""The pure rules: reading a validated launch, usernames, frame origins, retry delays."""

from __future__ import annotations

import pytest

from lti import claims
from lti.claims import (
    BACKOFF_CAP_SECONDS,
    ClaimError,
    backoff_seconds,
    frame_origins,
    is_transient,
    parse_launch,
    username_base,
)

LTI = claims.LTI
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
INSTITUTION_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"


def body(**extra):
    return {
        "sub": "u-1",
        "given_name": "Grace",
        "family_name": "Hopper",
        "email": "grace@example.org",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "deployment_id": "d-1",
        LTI + "roles": [LEARNER],
        LTI + "context": {"id": "c-1", "label": "CS1"},
        LTI + "resource_link": {"id": "r-1", "title": "Module"},
        LTI + "custom": {"course": "language-models", "module": "post-training", "section": "quiz"},
        claims.AGS: {
            "scope": [claims.SCOPE_SCORE, claims.SCOPE_LINEITEM],
            "lineitems": "https://lms.example/li",
        },
        claims.NRPS: {"context_memberships_url": "https://lms.example/m"},
    } | extra


def test_a_launch_is_read_into_plain_data():
    launch = parse_launch(body())
    assert launch.name == "Grace Hopper"  # from given and family name
    assert launch.context_title == "CS1"  # the label when there is no title
    assert launch.target.section == "quiz"
    assert launch.memberships_url == "https://lms.example/m"
    assert launch.grades.can_post_scores and launch.grades.can_create_lineitem
    assert not launch.is_instructor and not launch.is_deep_linking


def test_a_launch_without_a_course_is_refused():
    with pytest.raises(ClaimError):
        parse_launch(body(**{LTI + "context": None}))


def test_malformed_claims_are_ignored_not_trusted():
    launch = parse_launch(
        body(**{LTI + "custom": "not-a-dict", LTI + "roles": ["x", 5], claims.AGS: "nope"})
    )
    assert launch.target == claims.Target()
    assert launch.roles == ("x",)
    assert launch.grades is None


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([INSTRUCTOR], True),
        ([LEARNER], False),
        # Canvas sends institution roles even where the user is a learner: context wins.
        ([INSTITUTION_INSTRUCTOR, LEARNER], False),
        (["Instructor"], True),
    ],
)
def test_instructors_are_the_context_instructor_role_holders(roles, expected):
    assert claims.roles_are_instructor(roles) is expected


def test_usernames_are_readable_and_never_a_whole_email():
    assert username_base("Ada Lovelace") == "ada-lovelace"
    assert username_base("Zoë Ångström") == "zoe-angstrom"
    assert username_base("", "someone@example.org") == "someone"
    assert username_base("", "") == "learner"
    assert len(username_base("x" * 200)) <= claims.USERNAME_BASE_LENGTH


def test_frame_origins_are_origins_only():
    assert frame_origins("https://school.instructure.com/courses/1\nhttps://a.example:8443") == [
        "https://school.instructure.com",
        "https://a.example:8443",
    ]
    # Wildcards, keywords and other schemes never widen the policy.
    assert frame_origins("* 'unsafe-inline' javascript:alert(1) data:x") == []
    assert frame_origins("", "https://canvas.example/iss", "https://canvas.example/auth") == [
        "https://canvas.example"
    ]


def test_backoff_doubles_up_to_a_cap():
    assert [backoff_seconds(n) for n in range(5)] == [0, 30, 60, 120, 240]
    assert backoff_seconds(50) == BACKOFF_CAP_SECONDS


@pytest.mark.parametrize(
    ("status", "transient"),
    [(None, True), (503, True), (429, True), (401, True), (400, False), (404, False)],
)
def test_only_passing_failures_are_retried(status, transient):
    assert is_transient(status) is transient


def test_a_roster_is_read_once_per_member_and_skips_what_it_cannot_use():
    roster = claims.parse_roster(
        [
            {"user_id": "a", "name": "Ann Old", "roles": [LEARNER]},
            {"user_id": "", "name": "No id"},
            "not a member",
            {"user_id": "b", "given_name": "Bo", "family_name": "Li", "roles": [INSTRUCTOR]},
            {"user_id": "c", "status": "Inactive", "email": " c@example.org ", "roles": [7]},
            {"user_id": "a", "name": "Ann New", "roles": [LEARNER]},
        ]
    )
    assert [(m.sub, m.name, m.instructor, m.active) for m in roster] == [
        ("a", "Ann New", False, True),
        ("b", "Bo Li", True, True),
        ("c", "", False, False),
    ]
    assert roster[2].email == "c@example.org" and roster[2].roles == ()
