"""Error pages: plain answers a person can read, never a traceback."""

from __future__ import annotations

import sys

from django.core.exceptions import BadRequest, RequestDataTooBig
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


# The 4xx handlers. Django's defaults are wrapped in `requires_csrf_token`, which runs the
# CSRF check again and so reads the body a second time: a body Django could not read the
# first time (a form in UTF-16 or Latin-1) raised again inside the 400 handler and became
# a 500. These never touch the body, only the path and the session.


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: say what was wrong with the request when it is the client's input."""
    if isinstance(exception, RequestDataTooBig):
        message = "The form sent too much data. Shorten what you typed and try again."
    elif isinstance(exception, BadRequest) and str(exception):
        message = f"{exception} Send the form again from its page."
    else:
        message = ""
    return render(request, "400.html", {"exception": message}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: the reason a view gave (e.g. "This page is for instructors.")."""
    message = str(exception) if exception is not None else ""
    return render(request, "403.html", {"exception": message}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: one message for "missing" and "not yours" (no object's existence leaks)."""
    return render(request, "404.html", {}, status=404)


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
