"""A small LMS for the tests: the platform side of LTI 1.3, on this machine.

It has its own RSA key pair and JWKS endpoint, signs id_tokens (PyJWT) for resource-link
and deep-linking launches, answers the OIDC authentication request the way a browser
sees it (an auto-submitting form to the tool's launch URL), issues access tokens for
the tool's signed client assertions, serves a Names and Roles roster, and keeps the AGS
line items and every score it receives. `down = True` makes its services answer 503,
like an LMS in maintenance.

Its gradebook works as AGS asks of a platform: one result per (user, line item), updated
only by a score whose timestamp is later than the one on record ("the platform MUST NOT
update a result if the last timestamp on record is later than the incoming score
update"); a repeat of the same timestamp is ignored, or answered 409 Conflict when
`conflict_on_repeat` is set (as some platforms do). `scores` keeps every POST that came
in; `recorded` only those that changed the gradebook. `lose_replies = n` records the next
n scores and then answers 503, as when the platform's answer is lost on the way back. It also serves an LMS page that shows the tool in an iframe.

Served by wsgiref in a thread on 127.0.0.1 (another site than the tool's `localhost`,
so the browser test sees a real third-party iframe).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def new_rsa_key() -> tuple[str, dict]:
    """(private PEM, public JWK) for a fresh 2048-bit key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = JWK.from_pem(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pem, json.loads(public.export_public())


@dataclass
class PlatformServer:
    client_id: str = "tool-client-1"
    deployment_id: str = "deployment-1"
    context_id: str = "course-1"
    kid: str = "platform-key-1"
    down: bool = False
    tool_launch_url: str = ""
    tool_login_url: str = ""
    tool_jwks: dict = field(default_factory=dict)
    scores: list[dict] = field(default_factory=list)
    recorded: list[dict] = field(default_factory=list)
    results: dict[tuple[str, str], dict] = field(default_factory=dict)
    conflict_on_repeat: bool = False
    lose_replies: int = 0
    lineitems: dict[str, dict] = field(default_factory=dict)
    members: list[dict] = field(default_factory=list)
    deep_link_replies: list[dict] = field(default_factory=list)
    token_requests: int = 0
    # What the OIDC endpoint signs next, by login hint (the browser test's users).
    launches: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.private_key, jwk = new_rsa_key()
        self.public_jwk = jwk | {"kid": self.kid, "alg": "RS256", "use": "sig"}
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server = make_server(
            "127.0.0.1", 0, self.app, server_class=_Server, handler_class=_QuietHandler
        )
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # --------------------------------------------------------------------- set-up

    @property
    def issuer(self) -> str:
        return self.base

    def url(self, path: str) -> str:
        return self.base + path

    def reset(self) -> None:
        with self._lock:
            self.down = False
            self.conflict_on_repeat = False
            self.lose_replies = 0
            self.scores.clear()
            self.recorded.clear()
            self.results.clear()
            self.members.clear()
            self.deep_link_replies.clear()
            self.launches.clear()
            self.token_requests = 0
            self._tokens.clear()
            self.lineitems = {
                self.lineitem_url(1): {
                    "id": self.lineitem_url(1),
                    "label": "Post-training quiz",
                    "scoreMaximum": 5,
                    "resourceLinkId": "link-1",
                    "tag": "quiz",
                }
            }

    def lineitem_url(self, n: int) -> str:
        return self.url(f"/lineitems/{self.context_id}/{n}")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------- messages

    def claims(
        self,
        *,
        nonce: str,
        sub: str = "student-1",
        name: str = "Ada Lovelace",
        email: str = "ada@example.org",
        instructor: bool = False,
        resource_link: str = "link-1",
        custom: dict | None = None,
        lineitem: bool = True,
        deep_linking: bool = False,
        **overrides: Any,
    ) -> dict:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": name,
            "email": email,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": self.tool_launch_url,
            LTI + "roles": [ROLE_INSTRUCTOR if instructor else ROLE_LEARNER],
            LTI + "context": {"id": self.context_id, "title": "Physics 101", "label": "PHY101"},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.url(f"/nrps/{self.context_id}"),
                "service_versions": ["2.0"],
            },
        }
        if deep_linking:
            body[LTI + "message_type"] = "LtiDeepLinkingRequest"
            body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": self.url("/deep_link_return"),
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": False,
                "data": "opaque-platform-data",
            }
        else:
            body[LTI + "message_type"] = "LtiResourceLinkRequest"
            body[LTI + "resource_link"] = {"id": resource_link, "title": "Post-training module"}
            ags = {"scope": AGS_SCOPES, "lineitems": self.url(f"/lineitems/{self.context_id}")}
            if lineitem:
                ags["lineitem"] = self.lineitem_url(1)
            body["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = ags
        if custom is not None:
            body[LTI + "custom"] = custom
        body.update(overrides)
        return {key: value for key, value in body.items() if value is not None}

    def sign(self, body: dict, *, key: str | None = None, kid: str | None = None) -> str:
        return jwt.encode(
            body, key or self.private_key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def id_token(self, *, nonce: str, **claims: Any) -> str:
        return self.sign(self.claims(nonce=nonce, **claims))

    def decode_tool_jwt(self, token: str, *, audience: str) -> dict:
        header = jwt.get_unverified_header(token)
        jwk = next(k for k in self.tool_jwks["keys"] if k["kid"] == header["kid"])
        return jwt.decode(
            token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=audience, leeway=5
        )

    # ------------------------------------------------------------------ the server

    def app(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            status, headers, body = self._route(method, path, query, raw, environ)
        except Exception as exc:  # noqa: BLE001 - a test server says what went wrong
            status, headers, body = "500 Error", [("Content-Type", "text/plain")], str(exc)
        data = body.encode() if isinstance(body, str) else body
        start_response(status, [*headers, ("Content-Length", str(len(data)))])
        return [data]

    def _json(self, payload: Any, status: str = "200 OK", content_type="application/json"):
        return status, [("Content-Type", content_type)], json.dumps(payload)

    def _authorized(self, environ) -> bool:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        return auth.startswith("Bearer ") and auth[7:] in self._tokens

    def _route(self, method, path, query, raw, environ):
        if path == "/jwks":
            return self._json({"keys": [self.public_jwk]})
        if path == "/auth":
            return self._auth(query)
        if path == "/lms":
            return self._lms_page(query)
        if path == "/deep_link_return" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            reply = self.decode_tool_jwt(form["JWT"], audience=self.issuer)
            self.deep_link_replies.append(reply)
            items = reply.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items", [])
            titles = ", ".join(html.escape(item.get("title", "")) for item in items)
            page = f"<!doctype html><title>Added</title><h1>Content added: {titles}</h1>"
            return "200 OK", [("Content-Type", "text/html")], page
        if self.down:
            return "503 Service Unavailable", [("Content-Type", "text/plain")], "maintenance"
        if path == "/token" and method == "POST":
            return self._token(raw)
        if not self._authorized(environ):
            return "401 Unauthorized", [("Content-Type", "text/plain")], "no token"
        if path == f"/nrps/{self.context_id}":
            payload = {"id": self.url(path), "context": {"id": self.context_id}}
            payload["members"] = self.members
            return self._json(
                payload, content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
            )
        if path == f"/lineitems/{self.context_id}":
            if method == "POST":
                item = json.loads(raw)
                item["id"] = self.lineitem_url(len(self.lineitems) + 1)
                self.lineitems[item["id"]] = item
                return self._json(item, "201 Created")
            return self._json(list(self.lineitems.values()))
        if path.endswith("/scores") and method == "POST":
            lineitem = self.url(path[: -len("/scores")])
            if lineitem not in self.lineitems:
                return "404 Not Found", [("Content-Type", "text/plain")], "no such line item"
            return self._score(lineitem, json.loads(raw))
        return "404 Not Found", [("Content-Type", "text/plain")], "not found"

    def _score(self, lineitem: str, score: dict):
        """Record a score in the gradebook, at most once per (user, line item, timestamp)."""
        with self._lock:
            score = {"lineitem": lineitem, **score}
            self.scores.append(score)
            key = (lineitem, score["userId"])
            when = datetime.fromisoformat(score["timestamp"])
            on_record = self.results.get(key)
            repeat = (
                on_record is not None and datetime.fromisoformat(on_record["timestamp"]) >= when
            )
            if not repeat:
                self.results[key] = score
                self.recorded.append(score)
            if self.lose_replies:
                self.lose_replies -= 1
                return "503 Service Unavailable", [("Content-Type", "text/plain")], "lost reply"
        if repeat and self.conflict_on_repeat:
            return "409 Conflict", [("Content-Type", "text/plain")], "a later score is on record"
        return "200 OK", [("Content-Type", "application/json")], ""

    def _token(self, raw: bytes):
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        claims = self.decode_tool_jwt(form["client_assertion"], audience=self.url("/token"))
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            return "400 Bad Request", [("Content-Type", "text/plain")], "wrong client"
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._tokens.add(token)
            self.token_requests += 1
        return self._json(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": form.get("scope", ""),
            }
        )

    def _auth(self, query: dict):
        """The OIDC authentication request: sign what the login hint names and post it
        to the tool's launch URL, as a platform does (here: an auto-submitting form)."""
        if (
            query.get("client_id") != self.client_id
            or query.get("redirect_uri") != self.tool_launch_url
        ):
            return "400 Bad Request", [("Content-Type", "text/plain")], "unknown client or redirect"
        claims = self.launches.get(query.get("login_hint", ""), {})
        token = self.id_token(nonce=query["nonce"], **claims)
        page = (
            "<!doctype html><title>Signing in</title>"
            f'<form id="f" method="post" action="{html.escape(query["redirect_uri"])}">'
            f'<input type="hidden" name="id_token" value="{token}">'
            f'<input type="hidden" name="state" value="{html.escape(query["state"])}">'
            "<noscript><button>Continue</button></noscript></form>"
            "<script>document.getElementById('f').submit()</script>"
        )
        return "200 OK", [("Content-Type", "text/html")], page

    def login_params(self, login_hint: str) -> dict:
        return {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": self.tool_launch_url,
            "lti_message_hint": f"hint-{login_hint}",
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }

    def _lms_page(self, query: dict):
        """A course page of the LMS with the tool in an iframe, opened by a login
        initiation form posted into the frame."""
        params = self.login_params(query.get("as", "student-1"))
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        page = (
            "<!doctype html><html lang='en'><title>Physics 101 · Test LMS</title>"
            "<h1>Physics 101</h1>"
            f'<form id="launch" method="post" target="tool" action="{html.escape(self.tool_login_url)}">{inputs}</form>'
            '<iframe name="tool" title="Post-training course" style="width:100%;height:1400px"></iframe>'
            "<script>document.getElementById('launch').submit()</script></html>"
        )
        return "200 OK", [("Content-Type", "text/html")], page

    def login_query(self, login_hint: str) -> str:
        return urlencode(self.login_params(login_hint))
