"""pylti1p3 (the pylti1p3next distribution) fitted to this project.

The library does the protocol: the OIDC login redirect with state and nonce, id_token
validation against the platform's JWKS (PyJWT), deep-linking responses, NRPS and AGS
calls. These small classes only plug it into our storage and rules:

- `ToolConf` reads platforms, deployments and the tool's key from the database.
- `DatabaseLaunchStorage` keeps nonces and state parameters in the database (any server
  process may receive the launch that follows a login), bound to the browser by the
  library's own session-id cookie.
- `OneTimeNonceSessionService` + `Launch.save_launch_data`: a nonce is used once. The
  library only checks that a nonce exists; here the launch consumes it, after every
  other check has passed, so a replayed id_token is refused.
- `FrameCookieService` sets the library's cookies `SameSite=None; Secure`: the login and
  the launch arrive inside the LMS's iframe, from another site.
- `ServiceConnector` caches access tokens per client id (the library's Django connector
  keys them by issuer only, and every Canvas shares one issuer), and every HTTP call has
  a timeout.
"""

from __future__ import annotations

import hashlib
import typing as t
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import requests
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.contrib.django.launch_data_storage.cache import DjangoCacheDataStorage
from pylti1p3.contrib.django.request import DjangoRequest
from pylti1p3.cookie import CookieService
from pylti1p3.deployment import Deployment as LibraryDeployment
from pylti1p3.exception import LtiException, LtiInvalidNonceException, LtiKeyException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector as LibraryServiceConnector
from pylti1p3.session import SessionService
from pylti1p3.tool_config.abstract import ToolConfAbstract

from .models import Deployment, LaunchValue, Platform, ToolKey

# Nonces and state live this long: a login that is not followed by its launch within
# ten minutes has to start again (the platform's id_token itself lives less).
HANDSHAKE_SECONDS = 600
# The platform's public keys are fetched at most this often; a key id we have not seen
# fetches them again at once (key rotation).
PLATFORM_KEYS_SECONDS = 300
# Every call to a platform gives up after this many seconds.
HTTP_TIMEOUT_SECONDS = 10
USER_AGENT = "post-training-course (pylti1p3)"


class NoToolKeyError(LtiException):
    pass


class TimeoutSession(requests.Session):
    """A requests session whose calls time out (the library passes no timeout)."""

    def __init__(self, timeout: float = HTTP_TIMEOUT_SECONDS):
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method, url, *args, **kwargs):  # noqa: ANN001 - requests' signature
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def signing_key() -> ToolKey:
    key = ToolKey.objects.filter(is_active=True).order_by("-created_at").first()
    if key is None:
        raise NoToolKeyError(
            "The tool has no key pair yet: an administrator runs `manage.py lti_generate_key`."
        )
    return key


class ToolRegistration(Registration):
    """A platform's registration, with the tool's key id taken from our key table (the
    library would derive it from the public key, which has none)."""

    def __init__(self, platform: Platform, key: ToolKey | None = None):
        self.platform = platform
        self.set_issuer(platform.issuer)
        self.set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url)
        self.set_auth_token_url(platform.auth_token_url)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)
        self.set_key_set_url(platform.key_set_url)
        self._key = key

    def _tool_key(self) -> ToolKey:
        if self._key is None:
            self._key = signing_key()
        return self._key

    def get_tool_private_key(self) -> str:
        return self._tool_key().private_key

    def get_kid(self) -> str:
        return self._tool_key().kid

    def get_jwks(self) -> list[t.Mapping[str, t.Any]]:
        return [self._tool_key().public_jwk]


class ToolConf(ToolConfAbstract):
    """Registrations from the Platform table: many client ids per issuer (Canvas)."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _platform(self, iss: str, client_id: str | None) -> Platform | None:
        platforms = Platform.objects.filter(issuer=iss, is_active=True)
        if client_id:
            return platforms.filter(client_id=client_id).first()
        # A login without client_id: fine while the issuer has one registration only.
        found = list(platforms[:2])
        return found[0] if len(found) == 1 else None

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Registration | None:
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args, **kwargs
    ) -> Registration | None:
        platform = self._platform(iss, client_id)
        return ToolRegistration(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> LibraryDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args, **kwargs
    ) -> LibraryDeployment | None:
        platform = self._platform(iss, client_id)
        if platform is None or not deployment_id:
            return None
        if not Deployment.objects.filter(platform=platform, deployment_id=deployment_id).exists():
            return None
        return LibraryDeployment().set_deployment_id(deployment_id)


class DatabaseLaunchStorage(LaunchDataStorage):
    """Handshake values in the LaunchValue table, prefixed with the browser's session id
    (the library's `lti1p3-session-id` cookie), so a nonce only works in the browser
    that started the login."""

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> t.Any:
        row = (
            LaunchValue.objects.filter(key=self._prepare_key(key), expires_at__gt=timezone.now())
            .values_list("value", flat=True)
            .first()
        )
        return row

    def set_value(self, key: str, value: t.Any, exp: int | None = None) -> None:
        expires_at = timezone.now() + timedelta(seconds=exp or HANDSHAKE_SECONDS)
        LaunchValue.objects.update_or_create(
            key=self._prepare_key(key), defaults={"value": value, "expires_at": expires_at}
        )

    def check_value(self, key: str) -> bool:
        return LaunchValue.objects.filter(
            key=self._prepare_key(key), expires_at__gt=timezone.now()
        ).exists()

    def consume(self, key: str) -> bool:
        """Delete the value; True only for the one caller that deleted a live row."""
        deleted, _ = LaunchValue.objects.filter(
            key=self._prepare_key(key), expires_at__gt=timezone.now()
        ).delete()
        return deleted > 0

    @staticmethod
    def forget_expired() -> int:
        deleted, _ = LaunchValue.objects.filter(expires_at__lte=timezone.now()).delete()
        return deleted


class OneTimeNonceSessionService(SessionService):
    def __init__(self, request: DjangoRequest, storage: DatabaseLaunchStorage):
        super().__init__(request)
        self.set_data_storage(storage)
        self.set_launch_data_lifetime(HANDSHAKE_SECONDS)

    def consume_nonce(self, nonce: str) -> bool:
        storage = t.cast(DatabaseLaunchStorage, self.data_storage)
        return storage.consume(self._get_key("nonce", nonce))


class FrameCookieService(CookieService):
    """The library's cookies (state, its session id), always `SameSite=None; Secure;
    HttpOnly`: they must come back on the platform's cross-site POST to the launch URL,
    inside an iframe. (Browsers accept Secure cookies from http://localhost too.)"""

    def __init__(self, request: DjangoRequest):
        self._request = request
        self._to_set: dict[str, tuple[str, int | None]] = {}

    def _get_key(self, key: str) -> str:
        return f"{self._cookie_prefix}-{key}"

    def get_cookie(self, name: str) -> str | None:
        return self._request.get_cookie(self._get_key(name))

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self._to_set[self._get_key(name)] = (str(value), exp)

    def update_response(self, response: HttpResponse) -> None:
        for key, (value, exp) in self._to_set.items():
            response.set_cookie(
                key, value, max_age=exp, secure=True, httponly=True, samesite="None", path="/"
            )


class Login(DjangoOIDCLogin):
    """OIDC third-party login initiation, with our page for the cookie check (the
    library's own page has inline script, which our CSP forbids)."""

    def __init__(self, request: HttpRequest, tool_config: ToolConf):
        django_request = DjangoRequest(request)
        storage = DatabaseLaunchStorage()
        super().__init__(
            request,
            tool_config,
            session_service=OneTimeNonceSessionService(django_request, storage),
            cookie_service=FrameCookieService(django_request),
            launch_data_storage=storage,
        )
        self._http_request = request

    def redirect(self, launch_url: str, js_redirect: bool = False) -> HttpResponse:
        # Refuse an unknown issuer or client before showing any page (the library would
        # show the cookie check first and refuse only on the second request).
        self.validate_oidc_login()
        return super().redirect(launch_url, js_redirect)

    def get_cookies_allowed_js_check(self) -> HttpResponse:
        _, params = self.get_cookies_allowed_js_check_params()
        # The same login again, marked so that it goes straight to the platform.
        continue_url = f"{reverse('lti:login')}?{urlencode(params)}"
        return render(self._http_request, "lti/cookie_check.html", {"continue_url": continue_url})


class Launch(DjangoMessageLaunch):
    """An id_token POSTed to the launch URL, validated by the library, plus: the nonce is
    consumed once everything else has passed; `azp`, when present, must be our client id;
    nothing of the launch is stored (our services keep what they need)."""

    def __init__(self, request: HttpRequest, tool_config: ToolConf, *, timeout: float):
        django_request = DjangoRequest(request, post_only=True)
        storage = DatabaseLaunchStorage()
        super().__init__(
            django_request,
            tool_config,
            session_service=OneTimeNonceSessionService(django_request, storage),
            cookie_service=FrameCookieService(django_request),
            launch_data_storage=storage,
            requests_session=TimeoutSession(timeout),
            service_connector_cls=ServiceConnector,
        )
        self.set_public_key_caching(DjangoCacheDataStorage(), PLATFORM_KEYS_SECONDS)

    @property
    def platform(self) -> Platform:
        registration = t.cast(ToolRegistration, self._registration)
        return registration.platform

    def validate_registration(self) -> Launch:
        super().validate_registration()
        azp = self._get_jwt_body().get("azp")
        if azp is not None and azp != self.get_client_id():
            raise LtiException("The id_token was issued to another client (azp).")
        return self

    def get_public_key(self) -> tuple[str, str]:
        try:
            return super().get_public_key()
        except LtiKeyException:
            if self._public_key_cache_data_storage is None:
                raise
            # A key id we have not seen: the platform may have rotated its keys.
            self._public_key_cache_data_storage = None
            self._registration.set_key_set(None)
            return super().get_public_key()

    def save_launch_data(self) -> Launch:
        nonce = self._get_jwt_body().get("nonce", "")
        session = t.cast(OneTimeNonceSessionService, self._session_service)
        if not session.consume_nonce(nonce):
            raise LtiInvalidNonceException("This launch was already used (its nonce is spent).")
        return self


class ServiceConnector(LibraryServiceConnector):
    """Access tokens cached per platform registration and scope set."""

    def _get_cache_key(self, scope_key: str) -> str:
        registration = self._registration
        raw = f"{registration.get_auth_token_url()}|{registration.get_client_id()}|{scope_key}"
        return "lti-token-" + hashlib.sha256(raw.encode()).hexdigest()

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return cache.get(self._get_cache_key(scope_key))

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        seconds = int(expires_in) - 10
        if seconds > 0:
            cache.set(self._get_cache_key(scope_key), access_token, seconds)


def service_connector(platform: Platform, *, timeout: float) -> ServiceConnector:
    return ServiceConnector(ToolRegistration(platform), TimeoutSession(timeout))


def new_launch_id() -> str:
    return uuid.uuid4().hex
