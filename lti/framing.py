"""Who may show our pages in a frame: nobody ('none', X-Frame-Options DENY), except an
LMS, and only on LTI pages and in sessions an LMS launch started.

Policies are applied through Django's per-view overrides (`csp_override`,
`xframe_options_exempt`); the allowed origins depend on the request (which platforms are
registered, which one launched this session), so they are applied when the response is
known rather than fixed when the view is defined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override

# request.session[SESSION_KEY] = {"platform": pk, "platform_name": str, "learner": bool,
# "frame_origins": [...]} after a launch (lti.views._sign_in).
SESSION_KEY = "lti"


def policy(*, frame_origins: Iterable[str], form_origins: Iterable[str] = ()) -> dict:
    """The site's CSP with `frame-ancestors` (and, for the deep-linking reply, the
    `form-action`) opened to the given origins only."""
    config = {key: list(value) for key, value in settings.SECURE_CSP.items()}
    frames = list(frame_origins)
    config["frame-ancestors"] = [CSP.SELF, *frames] if frames else [CSP.NONE]
    forms = list(form_origins)
    if forms:
        config["form-action"] = [*config.get("form-action", [CSP.SELF]), *forms]
    return config


def allow_framing(
    request: HttpRequest,
    response: HttpResponse,
    *,
    frame_origins: Iterable[str],
    form_origins: Iterable[str] = (),
) -> HttpResponse:
    """Give this response its own policy, through Django's per-view decorators."""
    config = policy(frame_origins=frame_origins, form_origins=form_origins)
    framed = csp_override(config)(xframe_options_exempt(lambda _request: response))(request)
    framed.lti_framed = True  # the session middleware leaves it as it is
    return framed


def framed_by_platforms(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For the LTI endpoints (login, launch, their error pages): any registered platform
    may frame them, since the session does not yet say which one is launching."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if getattr(response, "lti_framed", False):
            return response
        from .selectors import registered_frame_origins

        return allow_framing(request, response, frame_origins=registered_frame_origins())

    return wrapper
