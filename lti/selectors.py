"""Reads for the LTI pages: registered platforms, a class's LMS roster, a learner's grades."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse

from courseware.catalog import course_catalog
from courseware.models import Classroom, Module

from .models import LtiContext, Membership, Platform, ScoreOutbox, ToolKey


def registered_frame_origins() -> list[str]:
    """Every origin any active platform may frame the LTI endpoints from."""
    origins: list[str] = []
    for platform in Platform.objects.filter(is_active=True).only(
        "frame_origins", "issuer", "auth_login_url"
    ):
        for item in platform.allowed_frame_origins():
            if item not in origins:
                origins.append(item)
    return origins


def tool_jwks() -> dict:
    keys = ToolKey.objects.filter(is_active=True).values_list("public_jwk", flat=True)
    return {"keys": list(keys)}


@dataclass(frozen=True)
class ToolUrls:
    login: str
    launch: str
    jwks: str
    deep_linking: str
    domain: str


def tool_urls(request: HttpRequest) -> ToolUrls:
    """The URLs an administrator pastes into the LMS, as this request reaches the site."""
    launch = request.build_absolute_uri(reverse("lti:launch"))
    return ToolUrls(
        login=request.build_absolute_uri(reverse("lti:login")),
        launch=launch,
        jwks=request.build_absolute_uri(reverse("lti:jwks")),
        # Deep-linking requests come to the same redirect URL as launches.
        deep_linking=launch,
        domain=request.get_host(),
    )


def platforms_with_deployments() -> QuerySet[Platform]:
    return Platform.objects.prefetch_related("deployments").order_by("name")


def context_for_classroom(*, classroom: Classroom) -> LtiContext | None:
    return LtiContext.objects.select_related("platform").filter(classroom=classroom).first()


def lms_roster(*, context: LtiContext) -> QuerySet[Membership]:
    """The LMS course's members with their account and their latest score report, in one
    query (a class of thousands lists the same way)."""
    latest = ScoreOutbox.objects.filter(
        lti_user=OuterRef("lti_user"), resource_link__context=context
    ).order_by("-created_at")
    return (
        Membership.objects.filter(context=context)
        .select_related("lti_user__user")
        .annotate(
            score_status=Subquery(latest.values("status")[:1]),
            score_given=Subquery(latest.values("score_given")[:1]),
            score_maximum=Subquery(latest.values("score_maximum")[:1]),
        )
        .order_by("-is_instructor", "lti_user__name", "pk")
    )


@dataclass(frozen=True)
class GradeReport:
    platform: str
    link_title: str
    score_given: float
    score_maximum: float
    status: str
    status_label: str
    graded_at: datetime
    sent_at: datetime | None
    next_try_at: datetime
    tries: int
    last_error: str


def learner_grade_reports(*, user: AbstractBaseUser) -> list[GradeReport]:
    """The learner's latest score report per LMS link: sent, being sent, waiting (with the
    next try) or refused. One query; module titles come from the course catalog."""
    rows = (
        ScoreOutbox.objects.filter(lti_user__user=user)
        .select_related("resource_link__context__platform")
        .order_by("-created_at", "-pk")
    )
    latest: dict[int, ScoreOutbox] = {}
    for row in rows:  # a learner has a handful: the newest per link wins
        latest.setdefault(row.resource_link_id, row)
    modules = _modules_by_id()
    reports = [
        GradeReport(
            platform=row.resource_link.context.platform.name,
            link_title=row.resource_link.title
            or getattr(modules.get(row.resource_link.module_id), "title", ""),
            score_given=row.score_given,
            score_maximum=row.score_maximum,
            status=row.status,
            status_label=row.get_status_display(),
            graded_at=row.graded_at,
            sent_at=row.sent_at,
            next_try_at=row.next_try_at,
            tries=row.tries,
            last_error=row.last_error,
        )
        for row in latest.values()
    ]
    return sorted(reports, key=lambda report: report.graded_at, reverse=True)


def _modules_by_id() -> dict[int, Module]:
    return {entry.module.pk: entry.module for entry in course_catalog().modules.values()}


def learner_platform_names(*, user: AbstractBaseUser) -> list[str]:
    return list(Platform.objects.filter(users__user=user).values_list("name", flat=True).distinct())
