"""Rate limits for the account forms: log-in, sign-up, joining a class, password reset.

Each form is limited twice: by the client's address (courseware.client_ip, so behind a
proxy it is the client's, not the proxy's) and by its target (the account, the join
code, the email), counted in fixed windows in Django's cache. With DJANGO_CACHE_URL the
counts are shared by every server process; without it each process counts alone, which
still bounds the work one client can make (the limit times the number of processes).
Over a limit the form answers 429 with Retry-After and a page saying how long to wait,
and nothing else runs: no password is hashed, no mail is sent, nothing is written.

Limits are `RATE_LIMITS` in settings: {rule: (requests, seconds)}. If the cache cannot
be reached the limit lets the request through (the health check reports the cache).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .client_ip import client_ip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """One limit: its name in RATE_LIMITS and what it counts by (None: not counted)."""

    name: str
    key: Callable[[HttpRequest], str | None]


def _bucket(rule: str, key: str, period: int, now: float) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"ratelimit:{rule}:{digest}:{int(now // period)}"


def _limit(rule: str) -> tuple[int, int] | None:
    return settings.RATE_LIMITS.get(rule)


def retry_after(rule: Rule, request: HttpRequest, *, count: bool = True) -> int | None:
    """Count this request against `rule` (unless `count` is False) and return the seconds
    to wait if it is over the limit, else None."""
    limit = _limit(rule.name)
    key = rule.key(request)
    if limit is None or key is None:
        return None
    allowed, period = limit
    now = time.time()
    bucket = _bucket(rule.name, key, period, now)
    try:
        if count:
            cache.add(bucket, 0, timeout=period + 1)
            used = cache.incr(bucket)
        else:
            used = cache.get(bucket, 0)
            allowed -= 1  # a peek: over once the next counted request would be
    except Exception:  # noqa: BLE001  (a cache outage must not lock everyone out)
        logger.warning("rate limit %s not checked: the cache did not answer", rule.name)
        return None
    if used > allowed:
        return max(1, int(period - now % period))
    return None


def record(rule: Rule, request: HttpRequest) -> None:
    """Count a request after the fact (e.g. a failed log-in against its account)."""
    retry_after(rule, request, count=True)


def too_many_requests(request: HttpRequest, seconds: int) -> HttpResponse:
    minutes = (seconds + 59) // 60
    wait = f"{seconds} seconds" if seconds < 120 else f"{minutes} minutes"
    response = render(request, "429.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def first_refusal(request: HttpRequest, rules: tuple[Rule, ...]) -> int | None:
    """Count the request against every rule; the longest wait if any is exceeded."""
    waits = [wait for rule in rules if (wait := retry_after(rule, request)) is not None]
    return max(waits) if waits else None


def rate_limited(*rules: Rule, methods: tuple[str, ...] = ("POST",)):
    """Decorate a view: its POSTs count against `rules`; over any, a 429 page."""

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method in methods:
                wait = first_refusal(request, rules)
                if wait is not None:
                    return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# --- what each form counts by ------------------------------------------------------------


def by_address(prefix: str) -> Callable[[HttpRequest], str]:
    return lambda request: f"{prefix}:{client_ip(request)}"


def _posted(field: str, max_length: int = 254) -> Callable[[HttpRequest], str | None]:
    """A POSTed field, case-folded and bounded (a target that is missing is not counted)."""

    def key(request: HttpRequest) -> str | None:
        value = request.POST.get(field, "").strip().casefold()[:max_length]
        return value or None

    return key


def _join_code(request: HttpRequest) -> str | None:
    from .models import normalize_join_code

    return normalize_join_code(request.POST.get("join_code", "")[:64]) or None


def _account(request: HttpRequest) -> str | None:
    return str(request.user.pk) if request.user.is_authenticated else None


LOGIN_ADDRESS = Rule("login-address", by_address("login"))
LOGIN_ACCOUNT = Rule("login-account", _posted("username", 150))
SIGNUP_ADDRESS = Rule("signup-address", by_address("signup"))
SIGNUP_CODE = Rule("signup-code", _join_code)
JOIN_ADDRESS = Rule("join-address", by_address("join"))
JOIN_ACCOUNT = Rule("join-account", _account)
RESET_ADDRESS = Rule("reset-address", by_address("reset"))
RESET_EMAIL = Rule("reset-email", _posted("email"))
