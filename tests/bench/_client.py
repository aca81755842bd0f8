"""A simulated student's browser: one keep-alive connection and its own cookies.

Standard library only. Cookies are handled here rather than by http.cookiejar: with DEBUG
off the session and CSRF cookies are `Secure`, and cookiejar would drop them over the plain
HTTP of loopback. Every request says `X-Forwarded-Proto: https`, as the TLS-ending proxy
in front of gunicorn would (the settings trust it through SECURE_PROXY_SSL_HEADER).
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from http.cookies import CookieError, SimpleCookie

TIMEOUT = 35.0  # a little over gunicorn's worker timeout


@dataclass(frozen=True, slots=True)
class Sample:
    """One request as the client saw it."""

    phase: str
    endpoint: str  # "GET courseware:module": method and URL name, never the raw URL
    status: int  # 0 when no HTTP response came back
    error: str  # exception class name when status is 0
    started: float  # time.monotonic(), comparable across processes on Linux
    latency: float  # seconds


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    location: str = ""
    body: bytes = b""
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400


@lru_cache(maxsize=4096)
def _reverse(url_name: str, kwargs: tuple[tuple[str, str], ...]) -> str:
    from django.urls import reverse

    return reverse(url_name, kwargs=dict(kwargs))


@dataclass
class Browser:
    host: str
    port: int
    phase: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        self.origin = f"https://{self.host}:{self.port}"

    # The API steps use: URL names and kwargs, as in Django's reverse().
    @staticmethod
    def path(url_name: str, /, **url_kwargs: str) -> str:
        """The path `get`/`post` would request (e.g. to compare with a redirect's Location)."""
        return _reverse(url_name, tuple(sorted(url_kwargs.items())))

    def get(
        self, url_name: str, /, *, headers: Mapping[str, str] | None = None, **url_kwargs: str
    ) -> Response:
        path = _reverse(url_name, tuple(sorted(url_kwargs.items())))
        return self.request("GET", path, endpoint=url_name, headers=headers)

    def post(
        self,
        url_name: str,
        /,
        data: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **url_kwargs: str,
    ) -> Response:
        """A form POST with the CSRF token taken from the csrftoken cookie."""
        path = _reverse(url_name, tuple(sorted(url_kwargs.items())))
        form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **(data or {})}
        return self.request("POST", path, endpoint=url_name, form=form, headers=headers)

    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        sent = {"X-Forwarded-Proto": "https", "Accept": "text/html"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            # Over HTTPS Django's CSRF check wants a same-origin Origin (or Referer).
            sent["Origin"] = self.origin
            sent["Referer"] = self.origin + path
        sent.update(headers or {})
        started = time.monotonic()
        try:
            self._conn.request(method, path, body=body, headers=sent)
            response = self._conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            # Reset, refused, timed out: the next request opens a fresh connection.
            self._conn.close()
            self._record(f"{method} {endpoint}", 0, type(exc).__name__, started)
            return Response(status=0, error=type(exc).__name__)
        self._record(f"{method} {endpoint}", response.status, "", started)
        self._store_cookies(response.msg.get_all("Set-Cookie") or [])
        location = urllib.parse.urlsplit(response.getheader("Location", "")).path
        return Response(status=response.status, location=location, body=payload)

    def close(self) -> None:
        self._conn.close()

    def _record(self, endpoint: str, status: int, error: str, started: float) -> None:
        self.samples.append(
            Sample(self.phase, endpoint, status, error, started, time.monotonic() - started)
        )

    def _store_cookies(self, headers: list[str]) -> None:
        for header in headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
