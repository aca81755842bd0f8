"""What a validated LTI 1.3 message says, as plain data; and the small rules built on it.

Validation itself (signature, audience, expiry, nonce, deployment) is pylti1p3's job
(see lti/adapters.py): this module only reads a body that has already passed it, so
its tests need neither keys nor a database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pylti1p3.roles import DesignerRole, TeacherRole

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
DEPLOYMENT_ID = LTI + "deployment_id"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
RESOURCE_LINK = LTI + "resource_link"
CUSTOM = LTI + "custom"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"

SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"

# A local username made for a platform's user: readable, and unique with its suffix.
USERNAME_BASE_LENGTH = 24


class ClaimError(ValueError):
    """A validated message that still lacks what this tool needs (e.g. a course)."""


@dataclass(frozen=True)
class GradeService:
    """The AGS endpoint claim: where scores for this resource link go."""

    scopes: tuple[str, ...]
    lineitems: str = ""
    lineitem: str = ""

    @property
    def can_post_scores(self) -> bool:
        return SCOPE_SCORE in self.scopes and bool(self.lineitem or self.can_create_lineitem)

    @property
    def can_create_lineitem(self) -> bool:
        return SCOPE_LINEITEM in self.scopes and bool(self.lineitems)


@dataclass(frozen=True)
class Target:
    """Which part of the course a link opens: a module, or one of its sections."""

    course: str = ""
    module: str = ""
    section: str = ""


@dataclass(frozen=True)
class Launch:
    message_type: str
    deployment_id: str
    sub: str
    name: str
    email: str
    roles: tuple[str, ...]
    context_id: str
    context_title: str
    resource_link_id: str = ""
    resource_link_title: str = ""
    target: Target = field(default_factory=Target)
    memberships_url: str = ""
    grades: GradeService | None = None
    deep_linking: Mapping[str, Any] | None = None

    @property
    def is_instructor(self) -> bool:
        return roles_are_instructor(self.roles)

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == DEEP_LINKING_REQUEST


def roles_are_instructor(roles: Iterable[str]) -> bool:
    """Instructor (or course administrator) in this context, by the library's reading of
    the LIS role vocabulary (context roles win over institution roles, as Canvas needs)."""
    return TeacherRole({ROLES: list(roles)}).check()


def roles_may_pick_content(roles: Iterable[str]) -> bool:
    """Deep linking is for whoever builds the course: instructors and content developers."""
    body = {ROLES: list(roles)}
    return TeacherRole(body).check() or DesignerRole(body).check()


def _text(value: Any, limit: int = 255) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def display_name(body: Mapping[str, Any]) -> str:
    name = _text(body.get("name"))
    if not name:
        name = " ".join(
            p for p in (_text(body.get("given_name")), _text(body.get("family_name"))) if p
        )
    return name[:150]


def parse_launch(body: Mapping[str, Any]) -> Launch:
    """Read a validated id_token body. Raises ClaimError for what this tool cannot use."""
    context = body.get(CONTEXT) or {}
    if not isinstance(context, Mapping) or not _text(context.get("id")):
        raise ClaimError(
            "This launch names no course. Add the tool inside a course of your LMS, not on its own."
        )
    link = body.get(RESOURCE_LINK) or {}
    link = link if isinstance(link, Mapping) else {}
    custom = body.get(CUSTOM) or {}
    custom = custom if isinstance(custom, Mapping) else {}
    nrps = body.get(NRPS) or {}
    ags = body.get(AGS)
    grades = None
    if isinstance(ags, Mapping):
        scopes = ags.get("scope") or []
        grades = GradeService(
            scopes=tuple(s for s in scopes if isinstance(s, str)),
            lineitems=_text(ags.get("lineitems"), 500),
            lineitem=_text(ags.get("lineitem"), 500),
        )
    roles = body.get(ROLES) or []
    deep_linking = body.get(DEEP_LINKING)
    return Launch(
        message_type=_text(body.get(MESSAGE_TYPE)),
        deployment_id=_text(body.get(DEPLOYMENT_ID)),
        sub=_text(body.get("sub")),
        name=display_name(body),
        email=_text(body.get("email"), 254),
        roles=tuple(r for r in roles if isinstance(r, str)),
        context_id=_text(context.get("id")),
        context_title=_text(context.get("title")) or _text(context.get("label")),
        resource_link_id=_text(link.get("id")),
        resource_link_title=_text(link.get("title")),
        target=Target(
            course=_text(custom.get("course"), 50),
            module=_text(custom.get("module"), 50),
            section=_text(custom.get("section"), 50),
        ),
        memberships_url=_text(nrps.get("context_memberships_url"), 500)
        if isinstance(nrps, Mapping)
        else "",
        grades=grades,
        deep_linking=deep_linking if isinstance(deep_linking, Mapping) else None,
    )


@dataclass(frozen=True)
class RosterMember:
    """One member of a Names and Role Provisioning roster, as this tool uses it."""

    sub: str
    name: str
    email: str
    roles: tuple[str, ...]
    instructor: bool
    active: bool


def parse_roster(members: Iterable[Any]) -> list[RosterMember]:
    """The usable members of an NRPS roster, once each (the last entry for a user id
    wins); entries without a user id are skipped."""
    found: dict[str, RosterMember] = {}
    for member in members:
        if not isinstance(member, Mapping):
            continue
        sub = _text(str(member.get("user_id") or ""))
        if not sub:
            continue
        roles = tuple(r for r in member.get("roles") or [] if isinstance(r, str))
        found[sub] = RosterMember(
            sub=sub,
            name=display_name(member),
            email=_text(member.get("email"), 254),
            roles=roles,
            instructor=roles_are_instructor(roles),
            active=str(member.get("status") or "Active") == "Active",
        )
    return list(found.values())


def username_base(name: str, email: str = "") -> str:
    """The readable part of a new local username: "ada-lovelace" from "Ada Lovelace".

    Never the whole email (that would look like the user owns an address-named account);
    its local part only when there is no name."""
    source = name or email.partition("@")[0] or "learner"
    ascii_text = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return (slug or "learner")[:USERNAME_BASE_LENGTH].rstrip("-")


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, or "" if it is not an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def frame_origins(listed: str, *fallback_urls: str) -> list[str]:
    """The origins allowed to frame the tool: those listed (one per line or comma),
    else the origins of the platform's own URLs. Anything that is not an origin is dropped,
    so a typo cannot widen the policy (no wildcards, no paths, no 'unsafe' keywords)."""
    items = [item for item in re.split(r"[\s,]+", listed) if item]
    found = [origin(item) for item in items] if items else [origin(u) for u in fallback_urls]
    unique: list[str] = []
    for item in found:
        if item and item not in unique:
            unique.append(item)
    return unique


# Retries: 30 s, 1 min, 2 min … doubling, at most every 6 hours.
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 60 * 60


def backoff_seconds(tries: int) -> int:
    """How long to wait after the `tries`-th failed send before trying again."""
    if tries < 1:
        return 0
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(tries - 1, 20))


def is_transient(status: int | None) -> bool:
    """Worth retrying: no answer at all, a server error, a timeout or a rate limit;
    also 401 (an expired access token is fetched anew on the next try)."""
    return status is None or status >= 500 or status in (401, 408, 409, 423, 429)
