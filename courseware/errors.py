"""Error pages: plain answers a person can read, never a traceback."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

try:  # the Redis client is there whenever DJANGO_CACHE_URL can name Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    CACHE_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
        RedisConnectionError,
        RedisTimeoutError,
    )
except ImportError:  # pragma: no cover
    CACHE_CONNECTION_ERRORS = ()

# While the database cannot be reached (restarting, failing over, out of connections),
# every page fails the same way: say so with a 503 and when to retry, not a bare 500.
RETRY_AFTER_SECONDS = 5


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A missing or stale CSRF token: say so plainly (403), nothing was written."""
    return render(request, "registration/csrf_failure.html", {"reason": reason}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 with Retry-After when the error is a lost or refused connection
    to the database or to the shared cache, else the usual 500. Renders static templates
    without a request context (no session, no user): nothing here may need either.

    A request caught by a dropped connection is not run again: the client decides (an
    idempotent write is safe to repeat; every write here is)."""
    error = sys.exception()
    if isinstance(error, (OperationalError, InterfaceError, *CACHE_CONNECTION_ERRORS)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
