"""LTI 1.3 endpoints and pages. Thin: parse, call pylti1p3 or a service, render.

The login and launch endpoints are CSRF-exempt by nature (the platform POSTs to them
from its own site); what protects them is the protocol: the state cookie, the one-time
nonce and the platform's signature, all checked by pylti1p3. Every form of ours keeps
Django's CSRF protection.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pylti1p3.exception import LtiException, OIDCException

from courseware.http import HtmxHttpRequest, instructor_classroom, names_hidden
from courseware.selectors import pseudonym

from . import adapters, passback, selectors, services
from .claims import ClaimError, origin, parse_launch, roles_may_pick_content
from .framing import SESSION_KEY, allow_framing, framed_by_platforms
from .models import Platform

# The deep-linking launches a teacher has open, by token (session key).
DEEP_LINK_SESSION_KEY = "lti_deep_links"
LAUNCH_TIMEOUT_SECONDS = 10


def _refused(request: HttpRequest, reason: str, *, status: int = 400) -> HttpResponse:
    return render(request, "lti/refused.html", {"reason": reason}, status=status)


def _login_backend() -> str:
    """The model backend (not the lockout backend): a launch is its own authentication."""
    return next(b for b in settings.AUTHENTICATION_BACKENDS if not b.startswith("axes."))


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
@framed_by_platforms
def oidc_login(request: HttpRequest) -> HttpResponse:
    """OIDC third-party login initiation: check that this browser keeps our cookies in
    the LMS's frame (else offer a new window), then send it to the platform's
    authentication endpoint with a fresh state and nonce.

    The site's one GET that writes: the platform may start a login with a GET, and the
    protocol needs the nonce stored (expired handshakes are dropped at the same time)
    before the browser goes to the platform. No learner page does this."""
    adapters.DatabaseLaunchStorage.forget_expired()
    oidc = adapters.Login(request, adapters.ToolConf())
    try:
        return oidc.enable_check_cookies().redirect(
            request.build_absolute_uri(reverse("lti:launch"))
        )
    except (OIDCException, LtiException) as exc:
        return _refused(request, f"This login could not start: {exc}")


def _sign_in(request: HttpRequest, outcome: services.LaunchOutcome, platform) -> None:
    login(request, outcome.user, backend=_login_backend())
    # Read by the middleware (framing, cookies) and the overview panel, with the session
    # the request loads anyway: a launched learner's pages cost no extra query.
    request.session[SESSION_KEY] = {
        "platform": platform.pk,
        "platform_name": platform.name,
        "learner": not outcome.is_instructor,
        "frame_origins": platform.allowed_frame_origins(),
    }


@csrf_exempt
@never_cache
@require_POST
@framed_by_platforms
def launch(request: HttpRequest) -> HttpResponse:
    """The redirect URL: validate the id_token (pylti1p3), sign the user in, open what the
    link points to; a deep-linking request opens the content picker instead."""
    try:
        message = adapters.Launch(request, adapters.ToolConf(), timeout=LAUNCH_TIMEOUT_SECONDS)
        body = message.get_launch_data()
        data = parse_launch(body)
    except LtiException as exc:
        if "Missing cookie" in str(exc) or "State not found" in str(exc):
            return render(request, "lti/cookies_blocked.html", status=403)
        return _refused(request, f"This launch was refused: {exc}")
    except ClaimError as exc:
        return _refused(request, str(exc))
    platform = message.platform
    if data.is_deep_linking and not roles_may_pick_content(data.roles):
        return _refused(request, "Only instructors can add content from this tool.", status=403)
    try:
        outcome = services.launch_accept(platform=platform, launch=data)
    except services.LaunchRefused as exc:
        return _refused(request, str(exc))
    _sign_in(request, outcome, platform)
    if data.is_deep_linking:
        token = secrets.token_urlsafe(16)
        request.session[DEEP_LINK_SESSION_KEY] = {
            token: {
                "platform": platform.pk,
                "deployment_id": data.deployment_id,
                "settings": dict(data.deep_linking or {}),
                "course": outcome.classroom.course_id,
            }
        }
        return redirect("lti:deep-link", token=token)
    # Scores that could not reach this LMS before get another try now that it is up.
    passback.send_quietly(user=outcome.user)
    return redirect(outcome.landing)


@never_cache
@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys, for platforms to check what the tool signs."""
    response = JsonResponse(selectors.tool_jwks())
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@login_required
def setup(request: HtmxHttpRequest) -> HttpResponse:
    """For administrators: the URLs to paste into Canvas or Moodle, and what is registered."""
    if not request.user.is_staff:
        raise PermissionDenied("This page is for administrators.")
    urls = selectors.tool_urls(request)
    context = {
        "url_rows": [
            ("Login initiation URL (OIDC)", "url-login", urls.login),
            ("Launch URL (redirect URI, target link URI)", "url-launch", urls.launch),
            ("Public keyset URL (JWKS)", "url-jwks", urls.jwks),
            ("Deep linking (content selection) URL", "url-deep-linking", urls.deep_linking),
            ("Domain", "url-domain", urls.domain),
        ],
        "platforms": selectors.platforms_with_deployments(),
        "keys": selectors.tool_jwks()["keys"],
    }
    return render(request, "lti/setup.html", context)


def _deep_link(request: HttpRequest, token: str) -> dict:
    pending = request.session.get(DEEP_LINK_SESSION_KEY) or {}
    state = pending.get(token)
    if state is None:
        raise Http404("This content picker is closed. Open it again from your LMS.")
    return state


@require_http_methods(["GET", "POST"])
@login_required
def deep_link(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The content picker: the whole module or one section; the answer goes back to the
    LMS as a signed deep-linking response."""
    state = _deep_link(request, token)
    modules = services.deep_link_choices(course_id=state.get("course"))
    error = ""
    if request.method == "POST":
        choice = request.POST.get("target", "")
        single = len(request.POST.getlist("target")) == 1
        target = services.deep_link_target(value=choice) if single else None
        if target is None:
            error = "Choose the module or one of its sections."
        else:
            return _deep_link_reply(request, token, state, *target)
    context = {"modules": modules, "token": token, "error": error}
    response = render(request, "lti/deep_link.html", context, status=400 if error else 200)
    return response


def _deep_link_reply(request: HttpRequest, token, state, module, section) -> HttpResponse:
    platform = Platform.objects.filter(pk=state["platform"], is_active=True).first()
    if platform is None:
        raise Http404("This LMS is no longer registered.")
    try:
        reply = services.deep_link_reply(
            platform=platform,
            deployment_id=state["deployment_id"],
            settings=state["settings"],
            module=module,
            section=section,
            launch_url=request.build_absolute_uri(reverse("lti:launch")),
        )
    except (LtiException, KeyError) as exc:
        return _refused(request, f"The answer for your LMS could not be made: {exc}")
    # One answer per picker: a replayed POST finds it closed (404).
    pending = dict(request.session.get(DEEP_LINK_SESSION_KEY) or {})
    pending.pop(token, None)
    request.session[DEEP_LINK_SESSION_KEY] = pending
    context = {"reply": reply, "platform": platform, "target": section or module}
    response = render(request, "lti/deep_link_return.html", context)
    # The reply is a form POSTed to the LMS: our CSP must allow that one destination.
    return allow_framing(
        request,
        response,
        frame_origins=platform.allowed_frame_origins(),
        form_origins=[origin(reply.return_url)],
    )


@require_GET
@login_required
def classroom(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A class's LMS course: members (started or not), their grade reports, roster sync."""
    room = instructor_classroom(request, pk)
    context_obj = selectors.context_for_classroom(classroom=room)
    hide = names_hidden(request)
    members = []
    if context_obj is not None:
        for member in selectors.lms_roster(context=context_obj):
            user = member.lti_user.user
            members.append(
                {
                    "name": pseudonym(classroom_id=room.pk, user_id=user.pk)
                    if hide
                    else (member.lti_user.name or user.get_username()),
                    "member": member,
                }
            )
    return render(
        request,
        "lti/classroom.html",
        {"classroom": room, "lms": context_obj, "members": members, "hide_names": hide},
    )


@require_POST
@login_required
def roster_sync(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    room = instructor_classroom(request, pk)
    context_obj = selectors.context_for_classroom(classroom=room)
    if context_obj is None:
        return render(
            request,
            "lti/classroom.html",
            {
                "classroom": room,
                "lms": None,
                "members": [],
                "error": "This class is not linked to an LMS course, so it has no roster "
                "to sync. Nothing was changed.",
            },
            status=409,
        )
    try:
        result = services.roster_sync(context=context_obj)
    except services.ServiceUnavailable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Roster synced: {result.members} members, {result.new_accounts} new, "
            f"{result.inactive} inactive in the LMS.",
        )
    return redirect("lti:classroom", pk=room.pk)


@require_GET
@login_required
def grades(request: HtmxHttpRequest) -> HttpResponse:
    """The learner's own page: did their quiz score reach the LMS?"""
    context = {
        "reports": selectors.learner_grade_reports(user=request.user),
        "platforms": selectors.learner_platform_names(user=request.user),
    }
    return render(request, "lti/grades.html", context)
