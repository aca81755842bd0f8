"""Learners' pages, kept rendered per learner and invalidated by version keys.

A learner's page depends on three kinds of data, each with a *scope*: a key in the
shared cache whose value is a random version token.

- `CONTENT`: everything admins edit (sections, pairs, questions ...). Any save or delete
  of a content model draws a new token (signals, see `courseware.signals`).
- `user_scope(id)`: that learner's own work (progress, picks, sessions, attempts,
  enrollments, account). Every service that writes it, and the signals, draw a new one.
- `class_scope(id)`: what a class's learners see of each other (the profile's
  "classmates who agreed"); drawn anew when a classmate finishes labeling.
- `visit_scope(id)`: the section the learner visited last (pages showing "continue where
  you stopped" depend on it); its value is that section, not a random token.

`@cached_page` stores a rendered 200 response under (learner, URL, htmx headers, CSRF
secret) together with the tokens read *before* the view ran, and serves it again only
while every token is unchanged. A write draws new tokens at once and again after its
transaction commits, so a page rendered from data read in between is never served:
whichever token it was stored under is already gone. A view that reads a scope beyond
content and user declares it with `depends_on()` before reading that data.

Not kept: anonymous requests, anything but GET, responses other than a plain 200 page,
requests carrying a message to show, and requests without a CSRF cookie yet (the page
would carry a token for a secret the browser does not have).

The cache must be shared by every server process (settings.PAGE_CACHE says so);
missing or evicted tokens are simply drawn anew, which only costs a render.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .auth_backend import prefetched_user, user_cache_keys
from .tokens import bump, versions

CONTENT = "pv:content"
# Says how a page was answered (hit, miss: rendered and kept, bypass: rendered only), for
# the access log and the benchmarks, as caching proxies do.
STATUS_HEADER = "X-Page-Cache"
HX_HEADERS = ("HX-Request", "HX-Target", "HX-Trigger-Name", "HX-History-Restore-Request")
# Response headers a kept page is served again with (others are set per response).
KEPT_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "Vary",
    "HX-Push-Url",
    "HX-Replace-Url",
    "HX-Retarget",
)


def user_scope(user_id: int) -> str:
    return f"pv:user:{user_id}"


def class_scope(classroom_id: int) -> str:
    return f"pv:class:{classroom_id}"


def visit_scope(user_id: int) -> str:
    return f"pv:visit:{user_id}"


def visit_token(section_id: int) -> str:
    return f"s{section_id}"


def enabled() -> bool:
    return settings.PAGE_CACHE


# --- versions (see courseware.tokens) ----------------------------------------------------
# Tokens are drawn also while the page cache is off: pages kept before it was turned off
# must not be served after it is turned on again.


def bump_user(user_id: int | None) -> None:
    if user_id is not None:
        bump(user_scope(user_id))


def bump_classes(classroom_ids: Iterable[int]) -> None:
    bump(*(class_scope(pk) for pk in classroom_ids))


def set_visit(user_id: int, section_id: int) -> None:
    """Record the section visited last (its token is the section itself)."""
    cache.set(visit_scope(user_id), visit_token(section_id), timeout=None)


# A repeated view of the section visited last records the visit at most this often.
REVISIT_SECONDS = 60


def _touch_key(user_id: int) -> str:
    return f"pv:touch:{user_id}"


def revisit_is_recorded(request: HttpRequest, section_id: int) -> bool:
    """True when this visit needs no write: the learner is still on the section they
    visited last, and that visit was recorded less than REVISIT_SECONDS ago."""
    if not enabled():
        return False
    user_id = request.user.pk
    tokens = getattr(request, "_page_tokens", None) or {}
    scopes = [visit_scope(user_id), _touch_key(user_id)]
    if not all(s in tokens for s in scopes):
        tokens = cache.get_many(scopes)
    token = visit_token(section_id)
    return tokens.get(scopes[0]) == token and tokens.get(scopes[1]) == token


def visit_recorded(request: HttpRequest, section_id: int) -> None:
    """The visit was written: no need to write it again for REVISIT_SECONDS. The
    write may have drawn a new user token (a first visit): the page reads it now."""
    if not enabled():
        return
    cache.set(_touch_key(request.user.pk), visit_token(section_id), timeout=REVISIT_SECONDS)
    refresh(request, user_scope(request.user.pk))


# --- what a view tells the cache ---------------------------------------------------------


def depends_on(request: HttpRequest, *scopes: str) -> None:
    """Declare that the page being rendered reads these scopes' data.

    Call it before reading that data: the token is read now, so that a write landing
    during the render makes the stored page unreachable."""
    pending = getattr(request, "_page_scopes", None)
    if pending is None:
        return
    pending.update(versions([s for s in scopes if s not in pending]))


def refresh(request: HttpRequest, *scopes: str) -> None:
    """Re-read tokens the view itself just drew anew (its own write, before its reads)."""
    pending = getattr(request, "_page_scopes", None)
    if pending is None or transaction.get_connection().in_atomic_block:
        return
    pending.update(cache.get_many([s for s in scopes if s in pending]))


def on_replay(request: HttpRequest, name: str, value: Any) -> None:
    """Ask for `REPLAY_HOOKS[name](request, value)` each time the kept page is served."""
    hooks = getattr(request, "_page_hooks", None)
    if hooks is not None:
        hooks[name] = value


# name -> function(request, value): side effects a served page must still have (a visit
# recorded).
REPLAY_HOOKS: dict[str, Callable[[HttpRequest, Any], None]] = {}


def replay_hook(name: str):
    def register(func):
        REPLAY_HOOKS[name] = func
        return func

    return register


# --- the decorator ----------------------------------------------------------------------

# The request headers a page may vary on (htmx's), as WSGI names them.
HX_META = tuple("HTTP_" + h.upper().replace("-", "_") for h in HX_HEADERS)


def _entry_key(request: HttpRequest, user_id: int, csrf_secret: str) -> str:
    digest = hashlib.blake2b(digest_size=16, key=_key_secret())
    meta = request.META
    for part in (request.get_full_path(), csrf_secret, *(meta.get(h, "") for h in HX_META)):
        digest.update(part.encode())
        digest.update(b"\0")
    return f"page:{user_id}:{digest.hexdigest()}"


@functools.cache
def _key_secret() -> bytes:
    return hashlib.blake2b(settings.SECRET_KEY.encode(), digest_size=32).digest()


def _has_messages(request: HttpRequest) -> bool:
    return bool(len(messages.get_messages(request)))


def _session_user_id(request: HttpRequest) -> Any:
    """The user id the session names (not yet checked: Django's get_user does that)."""
    try:
        return get_user_model()._meta.pk.to_python(request.session[SESSION_KEY])
    except (KeyError, ValidationError, ValueError, TypeError):
        return None


def _keepable(request: HttpRequest) -> tuple[Any, str] | None:
    """(user id, CSRF secret) if this request may be served from / stored in the cache."""
    if not enabled() or request.method != "GET":
        return None
    secret = request.META.get("CSRF_COOKIE")
    if not secret or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return None
    user_id = _session_user_id(request)
    if user_id is None:
        return None
    return user_id, secret


def _serve(request: HttpRequest, entry: dict, tokens: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(entry["body"], status=200)
    for name, value in entry["headers"]:
        response.headers[name] = value
    request._page_tokens = tokens
    for name, value in entry["hooks"].items():
        REPLAY_HOOKS[name](request, value)
    response[STATUS_HEADER] = "hit"
    return response


def _bypass(view, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    response = view(request, *args, **kwargs)
    response[STATUS_HEADER] = "bypass"
    return response


def cached_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve a learner's page from the cache while nothing it shows has changed.

    Put it above `login_required`: it reads the session's user id, fetches the page, its
    tokens and the cached user in one round trip, then lets Django's own `get_user`
    check the user (active, session hash) from what was fetched. Anonymous requests,
    and any request whose user does not check out, go straight to the view."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        keepable = _keepable(request)
        if keepable is None:
            return _bypass(view, request, *args, **kwargs)
        user_id, secret = keepable
        key = _entry_key(request, user_id, secret)
        base = [CONTENT, user_scope(user_id), visit_scope(user_id)]
        wanted = [*base, _touch_key(user_id), *user_cache_keys(user_id)]
        # One round trip: the page, its usual tokens, when the visit was last written,
        # and the logged-in user.
        found = cache.get_many([key, *wanted])
        entry = found.pop(key, None)
        tokens = {k: found.get(k) for k in wanted}  # None: known to be absent
        with prefetched_user(tokens):
            user = request.user
            authenticated = user.is_authenticated and user.pk == user_id
        if not authenticated or _has_messages(request):
            return _bypass(view, request, *args, **kwargs)
        if entry is not None:
            current = dict(tokens)
            if extra := [s for s in entry["scopes"] if s not in current]:
                current.update(cache.get_many(extra))
            if all(current.get(s) == token for s, token in entry["scopes"].items()):
                return _serve(request, entry, tokens)
        # Tokens first, data second: see the module docstring.
        request._page_tokens = tokens
        request._page_scopes = versions(base[:2], known=found)
        request._page_hooks = {}
        response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and response.get("Content-Type", "").startswith("text/html")
            and not _has_messages(request)
            and not request.session.modified
        ):
            entry = {
                "scopes": request._page_scopes,
                "body": response.content,
                "headers": [(h, response[h]) for h in KEPT_HEADERS if h in response],
                "hooks": request._page_hooks,
            }
            cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
            response[STATUS_HEADER] = "miss"
        else:
            response[STATUS_HEADER] = "bypass"
        return response

    return wrapper
