"""Django's ModelBackend with the logged-in user read from the cache.

Every authenticated request loads its user; with a shared cache that is one cache read
instead of one query. The user is kept with a version token read *before* the row was
fetched, and a change to the user row or its groups draws a new token
(courseware.signals), so a password change, a deactivation or a new role is seen by the
next request, as without the cache, even if a stale read races with the change. Django
still checks the session's password hash against the user it gets back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from .tokens import bump, versions

USER_SECONDS = 300


def user_cache_keys(user_id) -> tuple[str, str]:
    """The kept user's key and its token's key: what `get_user` reads, also for a caller
    that fetches them in its own round trip and hands them over with `prefetched_user`."""
    return f"auth:user:{user_id}", f"auth:userv:{user_id}"


# Values of user_cache_keys() fetched by the page cache for the current request.
_PREFETCHED: ContextVar[dict[str, Any] | None] = ContextVar("prefetched_user", default=None)


@contextlib.contextmanager
def prefetched_user(values: dict[str, Any]) -> Iterator[None]:
    """Within the block, get_user takes its two cache values from `values` (None meaning
    absent) instead of asking the cache."""
    reset = _PREFETCHED.set(values)
    try:
        yield
    finally:
        _PREFETCHED.reset(reset)


def forget_user(user_id) -> None:
    """Make every kept copy of this user stale (now and when the transaction commits)."""
    if settings.USER_CACHE:
        bump(user_cache_keys(user_id)[1])


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id):
        if not settings.USER_CACHE:
            return super().get_user(user_id)
        entry_key, token_key = user_cache_keys(user_id)
        found = _PREFETCHED.get()
        if found is None or entry_key not in found or token_key not in found:
            found = cache.get_many([entry_key, token_key])
        entry, token = found.get(entry_key), found.get(token_key)
        if entry is not None and token is not None and entry[0] == token:
            user = entry[1]
        else:
            if token is None:  # the token first, the row second (see courseware.tokens)
                token = versions([token_key])[token_key]
            user = super().get_user(user_id)
            if user is not None:
                # Kept with the user: every page's header asks (one query otherwise);
                # a change of groups draws a new token like any change of the user.
                from .selectors import is_instructor

                is_instructor(user)
                cache.set(entry_key, (token, user), timeout=USER_SECONDS)
        return user if user is not None and self.user_can_authenticate(user) else None
