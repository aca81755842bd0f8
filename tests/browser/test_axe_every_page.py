"""axe-core on every page, learner and instructor, with demo-sized data (the demo
command's class of 30, with its labeling sessions and quiz attempts), at a phone's
360 px and a laptop's 1280 px: zero violations anywhere."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page

from courseware.models import Classroom, Module
from tests.browser.conftest import _axe
from tests.test_learner_pages import learner_pages, make_learner

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (360, 1280)


@pytest.fixture
def demo(content):
    """The demo class, as `manage.py demo` makes it, and one more learner in it who has
    labeled, passed or failed a quiz attempt and has one open."""
    call_command("demo", students=30, stdout=io.StringIO())
    classroom = Classroom.objects.get(name="Demo class")
    learner = make_learner("axe_learner", classroom)
    return classroom, learner


def sign_in(page: Page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def instructor_pages(classroom) -> dict[str, str]:
    pk = {"pk": classroom.pk}
    return {
        "my classes": reverse("courseware:teach"),
        "class": reverse("courseware:classroom", kwargs=pk),
        "class preferences": reverse("labeling:class-preferences", kwargs=pk),
        "quiz analytics": reverse("quiz:class", kwargs=pk),
        "class in the LMS": reverse("lti:classroom", kwargs=pk),
    }


PUBLIC_PAGES = {
    "home": "/",
    "log in": "/accounts/login/",
    "sign up": "/signup/",
    "password reset": "/accounts/password_reset/",
}


def violations(page: Page, pages: dict[str, str]) -> dict[str, list[str]]:
    """Every page opened in turn; axe's violations per page (none is what we want)."""
    found = {}
    for name, url in pages.items():
        response = page.goto(url)
        assert response is not None and response.status == 200, (name, url)
        result = _axe.run(page).response["violations"]
        if result:
            found[name] = [
                f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
                for v in result
            ]
    return found


def new_page(browser, live_server, width: int) -> Page:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_learner_page_is_axe_clean(browser, live_server, demo, width):
    classroom, learner = demo
    module = Module.objects.get(slug="post-training")
    page = new_page(browser, live_server, width)
    try:
        sign_in(page, live_server, learner.user)
        pages = learner_pages(module, learner)
        assert len(pages) > 25
        assert violations(page, pages) == {}
    finally:
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_instructor_page_is_axe_clean(browser, live_server, demo, width):
    classroom, _ = demo
    teacher = classroom.instructors.get(username="teacher")
    page = new_page(browser, live_server, width)
    try:
        sign_in(page, live_server, teacher)
        assert violations(page, instructor_pages(classroom)) == {}
    finally:
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_admins_lms_setup_page_is_axe_clean(browser, live_server, demo, width):
    from django.contrib.auth import get_user_model

    page = new_page(browser, live_server, width)
    try:
        sign_in(page, live_server, get_user_model().objects.get(username="admin"))
        assert violations(page, {"LMS setup": reverse("lti:setup")}) == {}
    finally:
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_public_page_is_axe_clean(browser, live_server, content, width):
    page = new_page(browser, live_server, width)
    try:
        assert violations(page, PUBLIC_PAGES) == {}
    finally:
        page.context.close()
