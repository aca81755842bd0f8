"""Pages seen inside an LMS: the session an LTI launch started works in its iframe.

Placed between Django's CSP middleware and its session middleware, so that it sees the
cookies the session, CSRF and X-Frame-Options middlewares set, and the CSP middleware
sees the policy it chose. In a session that an LMS launch started (and only there):

- the session and CSRF cookies become `SameSite=None; Secure`: inside the LMS's iframe
  our site is a third party, and `Lax` cookies would not come back. CSRF protection is
  unchanged: every form still needs its token, and the Origin check still applies;
- the launching platform's origins may frame the page (CSP `frame-ancestors`); every
  other session keeps `'none'` and X-Frame-Options DENY.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .framing import SESSION_KEY, allow_framing


class LtiSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session the request already read: never an extra query (e.g. /livez).
        if session is None or not session.accessed:
            return response
        state = session.get(SESSION_KEY)
        if not state:
            return response
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
            morsel = response.cookies.get(name)
            if morsel is not None and morsel.value:
                morsel["samesite"] = "None"
                morsel["secure"] = True
        if getattr(response, "lti_framed", False):
            return response
        # Set by the (inner) clickjacking middleware before this one sees the response.
        if "X-Frame-Options" in response:
            del response["X-Frame-Options"]
        return allow_framing(request, response, frame_origins=state.get("frame_origins", []))
