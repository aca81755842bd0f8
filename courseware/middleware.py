"""Replay a request once when its database connection dropped under it."""

from __future__ import annotations

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
    """

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
        return response
