"""Site-wide response headers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class PrivateResponsesMiddleware:
    """Every response to a logged-in user is `Cache-Control: private, no-store` (with
    Django's never-cache set: max-age=0, no-cache, must-revalidate): learner pages,
    instructor pages and exports (the gradebook carries emails) must not be kept by a
    shared cache or proxy, nor left in a browser's disk cache on a shared computer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
