"""The test LMS (tests/lti/platform.py) registered with the tool, and launch helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from lti import selectors, services
from lti.models import Deployment, Platform
from tests.lti.platform import PlatformServer

TOOL = "http://testserver"


@pytest.fixture(scope="session")
def lms_server() -> Iterator[PlatformServer]:
    server = PlatformServer()
    yield server
    server.stop()


@pytest.fixture
def lms(lms_server, db) -> PlatformServer:
    """The LMS, fresh for each test, registered with the tool (which has its key)."""
    lms_server.reset()
    lms_server.tool_launch_url = TOOL + reverse("lti:launch")
    lms_server.tool_login_url = TOOL + reverse("lti:login")
    services.tool_key_create()
    lms_server.tool_jwks = selectors.tool_jwks()
    return lms_server


@pytest.fixture
def platform(lms) -> Platform:
    row = Platform.objects.create(
        name="Test LMS",
        issuer=lms.issuer,
        client_id=lms.client_id,
        auth_login_url=lms.url("/auth"),
        auth_token_url=lms.url("/token"),
        key_set_url=lms.url("/jwks"),
    )
    Deployment.objects.create(platform=row, deployment_id=lms.deployment_id)
    return row


@dataclass
class Handshake:
    state: str
    nonce: str


def start_login(client: Client, lms: PlatformServer, login_hint: str = "student-1") -> Handshake:
    """OIDC login initiation as the LMS sends it, past the cookie check: the tool answers
    with a redirect to the platform's authentication URL carrying state and nonce."""
    params = lms.login_params(login_hint) | {"lti1p3_new_window": "1"}
    response = client.get(reverse("lti:login"), params)
    assert response.status_code == 302, response.content
    assert response.url.startswith(lms.url("/auth"))
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.url).query).items()}
    assert query["redirect_uri"] == lms.tool_launch_url
    return Handshake(state=query["state"], nonce=query["nonce"])


def post_launch(client: Client, token: str, state: str):
    return client.post(reverse("lti:launch"), {"id_token": token, "state": state})


def launch(client: Client, lms: PlatformServer, **claims):
    """A whole launch: login, the platform's signed id_token, the POST to the launch URL."""
    handshake = start_login(client, lms, claims.get("sub", "student-1"))
    token = lms.id_token(nonce=handshake.nonce, **claims)
    return post_launch(client, token, handshake.state)


@pytest.fixture
def launched_student(client, lms, platform, content):
    response = launch(client, lms, custom={"course": "language-models", "module": "post-training"})
    assert response.status_code == 302, response.content
    return client
