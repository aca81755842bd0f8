"""The client's address, trusting exactly the configured number of proxies.

Behind N proxies (the environment's AXES_PROXY_COUNT=N, the setting CLIENT_IP_PROXY_COUNT)
each proxy appends the address it received the request from to X-Forwarded-For, so the client is the N-th entry from the right; the
entries left of it are whatever the client chose to send and are never believed. With no
proxy configured (0, the default) X-Forwarded-For is ignored: REMOTE_ADDR is the client.
The login lockout (AXES_CLIENT_IP_CALLABLE) and the rate limits both use this.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(raw: str) -> str | None:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "CLIENT_IP_PROXY_COUNT", 0) or 0
    if proxies > 0:
        hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop]
        if len(hops) >= proxies:
            found = _address(hops[-proxies])
            if found is not None:
                return found
    return _address(remote) or remote
