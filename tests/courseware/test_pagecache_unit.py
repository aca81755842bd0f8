"""The page cache's decorator on its own: no database, a stand-in view and request.

What it must never do is serve a page that a write has made stale, or serve one
learner's page (or one CSRF secret's page) to another request.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponse
from django.test import RequestFactory

from courseware import pagecache

pytestmark = pytest.mark.usefixtures("page_cache_on")


@pytest.fixture
def page_cache_on(settings):
    settings.PAGE_CACHE = True


class Session(dict):
    modified = False


def make_request(user_id: int = 7, *, secret: str = "s" * 32, path: str = "/page/", **headers):
    request = RequestFactory().get(path, headers=headers)
    request.user = SimpleNamespace(pk=user_id, is_authenticated=True)
    request.session = Session({SESSION_KEY: str(user_id)})
    request._messages = []  # what messages.get_messages() returns: nothing pending
    if secret:
        request.META["CSRF_COOKIE"] = secret
    return request


class CountingView:
    """Renders "<user>:<data>:<n>"; `data` stands for what the page reads."""

    def __init__(self, status: int = 200):
        self.calls = 0
        self.data = "v1"
        self.status = status
        self.during_render = None

    def __call__(self, request):
        self.calls += 1
        body = f"{request.user.pk}:{self.data}:{self.calls}"
        if self.during_render:
            self.during_render()
        return HttpResponse(body, status=self.status, content_type="text/html; charset=utf-8")


def test_second_request_is_served_without_running_the_view():
    view = CountingView()
    cached = pagecache.cached_page(view)
    first = cached(make_request())
    second = cached(make_request())
    assert view.calls == 1
    assert second.content == first.content == b"7:v1:1"
    assert second["Content-Type"] == "text/html; charset=utf-8"


def test_a_write_to_the_learners_data_makes_the_page_stale():
    view = CountingView()
    cached = pagecache.cached_page(view)
    cached(make_request())
    view.data = "v2"
    pagecache.bump_user(7)
    assert cached(make_request()).content == b"7:v2:2"


def test_a_content_edit_makes_every_learners_page_stale():
    view = CountingView()
    cached = pagecache.cached_page(view)
    cached(make_request(7))
    cached(make_request(8))
    pagecache.bump(pagecache.CONTENT)
    cached(make_request(7))
    cached(make_request(8))
    assert view.calls == 4


def test_another_learners_write_leaves_the_page_kept():
    view = CountingView()
    cached = pagecache.cached_page(view)
    cached(make_request(7))
    pagecache.bump_user(8)
    cached(make_request(7))
    assert view.calls == 1


def test_a_write_during_the_render_is_never_hidden_by_the_stored_page():
    # The page read "v1", then a write landed before the page was stored: the stored
    # page must not be served afterwards (its tokens were read before the data).
    view = CountingView()
    cached = pagecache.cached_page(view)

    def concurrent_write():
        view.data = "v2"
        view.during_render = None
        pagecache.bump_user(7)

    view.during_render = concurrent_write
    assert cached(make_request()).content == b"7:v1:1"
    assert cached(make_request()).content == b"7:v2:2"


def test_pages_are_kept_per_learner_url_htmx_and_csrf_secret():
    view = CountingView()
    cached = pagecache.cached_page(view)
    cached(make_request(7))
    assert cached(make_request(8)).content.startswith(b"8:")
    cached(make_request(7, path="/page/?beta=3"))
    cached(make_request(7, HX_Request="true"))
    cached(make_request(7, secret="t" * 32))
    assert view.calls == 5
    cached(make_request(7))
    assert view.calls == 5


def test_a_declared_scope_makes_the_page_stale_when_drawn_anew():
    view = CountingView()

    def reads_class(request):
        pagecache.depends_on(request, pagecache.class_scope(3))
        return view(request)

    cached = pagecache.cached_page(reads_class)
    cached(make_request())
    cached(make_request())
    assert view.calls == 1
    pagecache.bump_classes([3])
    cached(make_request())
    assert view.calls == 2


@pytest.mark.parametrize("status", [302, 400, 404, 409, 500])
def test_only_plain_200_pages_are_kept(status):
    view = CountingView(status=status)
    cached = pagecache.cached_page(view)
    cached(make_request())
    cached(make_request())
    assert view.calls == 2


def test_not_kept_without_a_csrf_cookie_or_with_messages_or_a_changed_session():
    view = CountingView()
    cached = pagecache.cached_page(view)
    cached(make_request(secret=""))
    cached(make_request(secret=""))
    assert view.calls == 2  # the page would carry a token for a secret the browser lacks

    with_message = make_request()
    with_message._messages = ["Saved."]
    cached(with_message)
    cached(make_request())
    assert view.calls == 4  # the message page was not stored; the plain one was rendered

    def touches_session(request):
        request.session.modified = True
        return view(request)

    touching = pagecache.cached_page(touches_session)
    touching(make_request(9))
    touching(make_request(9))
    assert view.calls == 6


def test_only_the_user_the_session_names_and_only_logged_in():
    view = CountingView()
    cached = pagecache.cached_page(view)
    anonymous = make_request()
    anonymous.session = Session()
    anonymous.user = SimpleNamespace(pk=None, is_authenticated=False)
    cached(anonymous)
    cached(anonymous)
    assert view.calls == 2
    cached(make_request(7))  # kept for user 7
    mismatched = make_request(7)
    mismatched.user = SimpleNamespace(pk=8, is_authenticated=True)  # get_user disagreed
    assert cached(mismatched)["X-Page-Cache"] == "bypass"
    assert view.calls == 4


def test_off_when_the_setting_is_off(settings):
    settings.PAGE_CACHE = False
    view = CountingView()
    cached = pagecache.cached_page(view)
    cached(make_request())
    cached(make_request())
    assert view.calls == 2


def test_an_evicted_token_is_drawn_anew_and_never_matches_an_old_page():
    from django.core.cache import cache

    view = CountingView()
    cached = pagecache.cached_page(view)
    cached(make_request())
    cache.delete(pagecache.user_scope(7))  # evicted (or a fresh Redis)
    cached(make_request())
    assert view.calls == 2
