"""From an LMS page, in its iframe: launch, take the quiz, see the grade reach the LMS.

The test LMS (tests/lti/platform.py) runs on 127.0.0.1 and the tool on localhost: two
sites, so the tool really is a third party inside the LMS's frame.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from courseware.models import Section
from lti import selectors, services
from lti.models import Deployment, LtiContext, LtiUser, Platform
from tests.browser.conftest import CHROMIUM_ARGS, assert_accessible, tab_to
from tests.browser.test_quiz import key_for_open_attempt
from tests.lti.platform import PlatformServer

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOM = {"course": "language-models", "module": "post-training"}
LAUNCH_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def lms_server() -> Iterator[PlatformServer]:
    server = PlatformServer()
    yield server
    server.stop()


@pytest.fixture
def lms(lms_server, live_server, content) -> PlatformServer:
    lms_server.reset()
    lms_server.tool_launch_url = live_server.url + "/lti/launch/"
    lms_server.tool_login_url = live_server.url + "/lti/login/"
    services.tool_key_create()
    lms_server.tool_jwks = selectors.tool_jwks()
    platform = Platform.objects.create(
        name="Test LMS",
        issuer=lms_server.issuer,
        client_id=lms_server.client_id,
        auth_login_url=lms_server.url("/auth"),
        auth_token_url=lms_server.url("/token"),
        key_set_url=lms_server.url("/jwks"),
    )
    Deployment.objects.create(platform=platform, deployment_id=lms_server.deployment_id)
    return lms_server


@pytest.fixture
def framing_page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    """A browser profile that allows third-party cookies (Playwright's usual contexts are
    private windows, which block them: see test_blocked_cookies_…)."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    preferences = {"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    context = browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=shutil.which("chromium"),
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    context.close()
    # A refused frame (frame-ancestors) or an uncaught script error fails the test.
    assert errors == [], errors


def log_in(page: Page, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": page.url or "http://localhost"}]
    )


def test_launch_in_the_lms_frame_take_the_quiz_and_see_the_grade_arrive(
    framing_page, live_server, lms
):
    page = framing_page
    lms.launches["student-1"] = {"custom": CUSTOM | {"section": "quiz"}}
    page.goto(lms.url("/lms?as=student-1"))
    frame = page.frame_locator("iframe[name=tool]")
    # Login, the cookie check, the platform's form post, the launch: a few round trips.
    expect(frame.get_by_role("heading", level=1)).to_have_text(
        "Quiz: from base model to assistant", timeout=LAUNCH_TIMEOUT_MS
    )
    frame.get_by_role("button", name="Start the quiz").press("Enter")
    expect(frame.get_by_role("heading", level=1)).to_contain_text("attempt 1")
    student = LtiUser.objects.get(sub="student-1").user
    key = key_for_open_attempt(student)
    for position in range(1, 6):
        frame.locator(f"#q{position}-{key[position]}").check()
    frame.get_by_role("button", name="Submit answers").press("Enter")
    expect(frame.get_by_role("heading", level=2, name="Passed: 5 of 5")).to_be_visible()

    # Sent once the grading committed, before the result page was even shown.
    assert [(s["scoreGiven"], s["userId"]) for s in lms.scores] == [(5, "student-1")]
    page.frame(name="tool").goto(live_server.url + "/lti/grades/")
    expect(frame.get_by_text("Reached Test LMS")).to_be_visible()

    # The same session, in a tab of its own: the learner's grade page is accessible.
    page.goto(live_server.url + "/lti/grades/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your grades in your LMS")
    assert_accessible(page)


def test_teacher_picks_only_the_quiz_by_keyboard_and_the_lms_receives_it(
    framing_page, live_server, lms, content
):
    page = framing_page
    lms.launches["teacher-1"] = {
        "sub": "teacher-1",
        "name": "Tess Teacher",
        "instructor": True,
        "deep_linking": True,
    }
    page.goto(lms.url("/lms?as=teacher-1"))
    frame = page.frame_locator("iframe[name=tool]")
    expect(frame.get_by_role("heading", level=1)).to_have_text(
        "Choose what to add to your course", timeout=LAUNCH_TIMEOUT_MS
    )
    picker_url = page.frame(name="tool").url

    # The picker in a tab of its own (same session): axe, then the keyboard.
    page.goto(picker_url)
    assert_accessible(page)
    page.get_by_label("The whole module").focus()
    quiz = Section.objects.get(module=content, url_name="quiz:quiz")
    for _ in range(20):
        if page.locator(f"#target-section-{quiz.pk}").is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(page.locator(f"#target-section-{quiz.pk}")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add to the course")).to_be_focused()
    page.keyboard.press("Enter")
    # The signed answer goes back to the LMS by itself.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Content added")
    (reply,) = lms.deep_link_replies
    (item,) = reply["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["custom"]["section"] == "quiz"

    # The class view and its LMS page, for the teacher the launch made an instructor.
    classroom = LtiContext.objects.get().classroom
    page.goto(f"{live_server.url}/teach/classes/{classroom.pk}/lms/")
    expect(page.get_by_role("button", name="Sync the roster from Test LMS")).to_be_visible()
    assert_accessible(page)


def test_blocked_cookies_offer_a_new_window_that_works(page, live_server, lms):
    """Playwright's private-window context blocks third-party cookies, like Safari, Firefox
    and Chrome's private windows: inside the LMS frame the check fails."""
    lms.launches["student-1"] = {"custom": CUSTOM}
    page.goto(lms.url("/lms?as=student-1"))
    frame = page.frame_locator("iframe[name=tool]")
    button = frame.get_by_role("link", name="Open the course in a new window")
    expect(button).to_be_visible(timeout=LAUNCH_TIMEOUT_MS)
    expect(frame.get_by_text("continue in this page")).to_be_hidden()
    with page.context.expect_page() as opened:
        button.press("Enter")
    window = opened.value
    window.wait_for_load_state()
    expect(window.get_by_role("heading", level=1)).to_contain_text(
        "From base model to assistant", timeout=LAUNCH_TIMEOUT_MS
    )
    expect(frame.get_by_text("The course is open in a new window")).to_be_visible()
    window.close()


def test_cookie_check_page_works_by_keyboard_without_javascript(nojs_page, live_server, lms):
    page = nojs_page
    page.goto(f"{live_server.url}/lti/login/?{urlencode(lms.login_params('student-1'))}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Opening the course")
    assert_accessible(page)
    tab_to(page, "Open the course in a new window")
    tab_to(page, "continue in this page")
    page.keyboard.press("Enter")
    # The test LMS's own page posts the id_token back with a button when scripts are off.
    page.get_by_role("button", name="Continue").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "From base model to assistant", timeout=LAUNCH_TIMEOUT_MS
    )


def test_setup_page_for_admins_is_accessible(page, live_server, lms, admin_user):
    page.goto(live_server.url + "/")
    log_in(page, admin_user)
    page.goto(live_server.url + "/lti/setup/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Use it from your LMS")
    expect(page.get_by_text(live_server.url + "/lti/launch/").first).to_be_visible()
    assert_accessible(page)
    # A refused login says why, accessibly.
    page.goto(live_server.url + "/lti/login/")
    expect(page.get_by_role("alert")).to_contain_text("Could not find issuer")
    assert_accessible(page)
