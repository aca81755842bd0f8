"""Replay a request once when its database or cache connection dropped under it."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse


class ReplayAfterDisconnectMiddleware:
    """A PostgreSQL restart or a terminated backend kills the connection a request is
    using, and the request fails with a 503 (see `views.server_error`, which marks the
    response). Every write here is idempotent — upserts, attempts graded once, sessions
    finished once, progress marks — so running the request again on a fresh connection
    is safe, and it usually succeeds: the learner never sees the blip. Once only, so a
    real outage still answers 503 quickly.

    The same for the shared cache (Redis restarted: its connections are gone and it
    comes back empty, which is safe: every token is new), after a short pause for it to
    come back. Replaying also redoes a write whose version bump the outage stopped.
    """

    CACHE_PAUSE = 0.5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(response, "database_disconnected", False):
            for connection in connections.all(initialized_only=True):
                # Drop the dead connection; the next query gets a fresh, checked one.
                # (Inside an outer transaction — a test's — closing would end it.)
                if not connection.in_atomic_block:
                    connection.close_if_unusable_or_obsolete()
            response = self.get_response(request)
        elif getattr(response, "cache_disconnected", False):
            time.sleep(self.CACHE_PAUSE)
            response = self.get_response(request)
        return response
