"""Version tokens in the shared cache, for anything kept that a write must make stale.

A token is a random number under a key. Whatever is kept (a rendered page, the logged-in
user) is stored with the tokens read *before* its data was read, and is used again only
while those tokens are unchanged. A write draws new tokens at once and again when its
transaction commits, so data read in between can never be kept under a current token.
A missing or evicted token is simply drawn anew: what was kept under the old one is
never used again.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction


def new_token() -> int:
    # An int: Django's Redis serializer stores ints as they are, without pickling.
    return secrets.randbits(62)


def versions(keys: Iterable[str], known: dict[str, Any] | None = None) -> dict[str, Any]:
    """The current token under each key (those in `known` already read), drawing one
    for a key that has none."""
    keys = list(keys)
    found = {k: known[k] for k in keys if known and k in known}
    if wanted := [k for k in keys if k not in found]:
        found.update(cache.get_many(wanted))
    if missing := [k for k in keys if k not in found]:
        for key in missing:
            cache.add(key, new_token(), timeout=None)
        found.update(cache.get_many(missing))
    return found


def bump(*keys: str) -> None:
    """Draw new tokens now and again once the current transaction commits."""
    if not keys:
        return

    def draw() -> None:
        cache.set_many({key: new_token() for key in keys}, timeout=None)

    draw()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(draw)  # outside a transaction the write is already committed
