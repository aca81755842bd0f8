"""Course content read from process memory, under one content version.

Content (the outline, lesson text, pairs, traits, candidates, the quiz bank …) changes
only when an admin edits it, and every page reads it. So each kind is read through one
accessor (`@content_accessor`), which keeps what it built in this process for as long
as the content version is unchanged. The version is a random token in one database row;
every save or delete of a content model draws a new one (see `courseware.signals`,
connected per content model), and the loaders draw one after a bulk load.

The version is read once per request (one small query; `ContentVersionMiddleware`
makes the per-request memo), so an admin's edit shows on the next request in every
server process. Outside a request (commands, tests calling selectors) it is read at
every call. A random token rather than a counter: a rolled-back transaction cannot bring
back a number that already named other content.

What an accessor returns is shared by every request of the process: treat it as
read-only.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

# One dict per request in flight: the version read by that request, once.
_request_memo: ContextVar[dict | None] = ContextVar("content_version_memo", default=None)
_lock = threading.Lock()
_kept: dict[str, tuple[int, Any]] = {}

# The version of an empty database (no row yet: a fresh migrate or a flushed test run).
EMPTY = 0


def _read_version() -> int:
    """One primary-key read, written out: it runs on every request (the ORM spent three
    times as long building it as the database spent answering)."""
    from django.db import connection

    from .models import ContentVersion

    meta = ContentVersion._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT token FROM {meta.db_table} WHERE id = %s",  # noqa: S608  # nosec B608
            [ContentVersion.SINGLETON],
        )
        row = cursor.fetchone()
    return row[0] if row else EMPTY


def version() -> int:
    """The current content version: one query per request."""
    memo = _request_memo.get()
    if memo is None:
        return _read_version()
    if "version" not in memo:
        memo["version"] = _read_version()
    return memo["version"]


def remember_version(token: int | None) -> None:
    """A version read by another query of this request (the user's, courseware.roles):
    this request need not read it again."""
    memo = _request_memo.get()
    if memo is not None and "version" not in memo:
        memo["version"] = EMPTY if token is None else token


def bump() -> None:
    """Draw a new version: every process rebuilds what it kept on its next request."""
    from .models import ContentVersion

    ContentVersion.objects.bulk_create(
        [ContentVersion(pk=ContentVersion.SINGLETON, token=new_token())],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["token"],
    )
    memo = _request_memo.get()
    if memo is not None:
        memo.pop("version", None)


def new_token() -> int:
    return secrets.randbits(62) + 1  # never EMPTY


def content_accessor(func: Callable[[], Any]) -> Callable[[], Any]:
    """Keep `func()`'s result in this process while the content version is unchanged."""
    key = f"{func.__module__}.{func.__qualname__}"

    @wraps(func)
    def accessor() -> Any:
        current = version()
        kept = _kept.get(key)
        if kept is not None and kept[0] == current:
            return kept[1]
        value = func()
        with _lock:
            _kept[key] = (current, value)
        return value

    return accessor


def forget() -> None:
    """Drop everything kept (tests whose data outlives the version row use it)."""
    with _lock:
        _kept.clear()


class ContentVersionMiddleware:
    """Gives each request its own memo, so the version is read at most once per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_memo.set({})
        try:
            return self.get_response(request)
        finally:
            _request_memo.reset(token)
