"""LMS platforms, the tool's keys, and what launches bind: users, classes, links, scores.

A platform's user is linked to a local account through LtiUser (platform + sub), never
through an email address; a course in the LMS (its context) is bound to one class; a
resource link opens a module or one of its sections; each graded quiz attempt leaves one
ScoreOutbox row per resource link it is reported to, written in the grading transaction
and sent from there (see lti/passback.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from courseware.models import Classroom, Module, Section

from .claims import frame_origins


class Platform(models.Model):
    """One registration of this tool in an LMS (an issuer and the client id it gave us)."""

    name = models.CharField(max_length=100, help_text="Shown to learners, e.g. 'Canvas'.")
    issuer = models.CharField(
        max_length=255,
        help_text="The platform's issuer ('iss'), e.g. https://canvas.instructure.com.",
    )
    client_id = models.CharField(max_length=255, help_text="The client id the LMS gave the tool.")
    auth_login_url = models.URLField(
        max_length=500, help_text="OIDC authentication request URL (where logins go)."
    )
    auth_token_url = models.URLField(
        max_length=500, help_text="OAuth 2 access token URL (for roster and grade services)."
    )
    auth_audience = models.CharField(
        max_length=500, blank=True, help_text="Token audience, if not the token URL (rare)."
    )
    key_set_url = models.URLField(max_length=500, help_text="The platform's public keyset (JWKS).")
    frame_origins = models.TextField(
        blank=True,
        help_text=(
            "Origins that show the tool in a frame, one per line, e.g. "
            "https://school.instructure.com. Empty: the origins of the issuer and the "
            "authentication URL."
        ),
    )
    is_active = models.BooleanField(default=True, help_text="Inactive platforms cannot launch.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "client_id"], name="lti_platform_client"),
        ]

    def __str__(self) -> str:
        return self.name

    def allowed_frame_origins(self) -> list[str]:
        return frame_origins(self.frame_origins, self.issuer, self.auth_login_url)


class Deployment(models.Model):
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="deployments")
    deployment_id = models.CharField(max_length=255)

    class Meta:
        ordering = ["platform", "deployment_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "deployment_id"], name="lti_deployment_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} · {self.deployment_id}"


class ToolKey(models.Model):
    """The tool's own RSA key pair. Made by `manage.py lti_generate_key`; the private half
    is never shown (not in admin, not in any page), the public half is at the JWKS URL."""

    kid = models.CharField(max_length=64, unique=True)
    private_key = models.TextField(editable=False)
    public_jwk = models.JSONField(editable=False)
    is_active = models.BooleanField(
        default=True,
        help_text="Active keys are published; the newest active key signs. Deactivate an "
        "old key once every platform has fetched the new one.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.kid


class LtiUser(models.Model):
    """The link table: a platform's user (`sub`) and the local account made for them."""

    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="users")
    sub = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_links"
    )
    name = models.CharField(max_length=150, blank=True, help_text="As the platform sends it.")
    email = models.CharField(max_length=254, blank=True, help_text="As the platform sends it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "sub"], name="lti_user_once"),
        ]
        verbose_name = "LMS user"

    def __str__(self) -> str:
        return f"{self.name or self.sub} ({self.platform})"


class LtiContext(models.Model):
    """A course in the LMS, bound to the class its first launch created."""

    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="contexts")
    context_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    classroom = models.OneToOneField(
        Classroom, on_delete=models.CASCADE, related_name="lti_context"
    )
    memberships_url = models.URLField(max_length=500, blank=True, help_text="NRPS, if offered.")
    roster_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "context_id"], name="lti_context_once"),
        ]
        verbose_name = "LMS course"

    def __str__(self) -> str:
        return f"{self.title or self.context_id} ({self.platform})"


class Membership(models.Model):
    """Someone in an LMS course, from a launch or from the roster service.
    `first_launch_at` is empty for members who have never opened the tool."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive in the LMS"

    context = models.ForeignKey(LtiContext, on_delete=models.CASCADE, related_name="memberships")
    lti_user = models.ForeignKey(LtiUser, on_delete=models.CASCADE, related_name="memberships")
    roles = models.JSONField(default=list, blank=True)
    is_instructor = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    first_launch_at = models.DateTimeField(null=True, blank=True)
    last_launch_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["context", "lti_user"], name="lti_membership_once"),
            models.CheckConstraint(
                condition=Q(status__in=["active", "inactive"]), name="lti_membership_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lti_user} in {self.context}"


class ResourceLink(models.Model):
    """A placement of the tool in an LMS course: it opens a module or one section, and
    its quiz score goes to `lineitem_url` (named by the launch, or created by the tool)."""

    context = models.ForeignKey(LtiContext, on_delete=models.CASCADE, related_name="resource_links")
    resource_link_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="lti_links")
    section = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="lti_links"
    )
    lineitem_url = models.URLField(max_length=500, blank=True)
    lineitems_url = models.URLField(max_length=500, blank=True)
    ags_scopes = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["context", "resource_link_id"], name="lti_resource_link_once"
            ),
        ]
        verbose_name = "LMS link"

    def __str__(self) -> str:
        return self.title or self.resource_link_id


class LaunchValue(models.Model):
    """Short-lived values of the OIDC handshake (nonces, state parameters), kept in the
    database so that any server process may receive the launch that follows a login."""

    key = models.CharField(max_length=255, unique=True)
    value = models.JSONField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key


class ScoreOutbox(models.Model):
    """One score to report for one graded attempt to one resource link's line item.

    Written in the transaction that grades the attempt (so a graded attempt always has its
    rows), then sent; a row stays pending, with a growing delay, until the platform
    accepts it. The unique constraint makes reporting an attempt twice impossible.

    A sender claims a row (status `sending`, its `claim` token, `claimed_until`) in a short
    transaction, posts with no lock held, and settles the row only if its claim is still
    the row's. A claim whose sender died is taken again once `claimed_until` has passed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Refused by the LMS"

    attempt = models.ForeignKey("quiz.Attempt", on_delete=models.CASCADE, related_name="+")
    resource_link = models.ForeignKey(ResourceLink, on_delete=models.CASCADE, related_name="scores")
    lti_user = models.ForeignKey(LtiUser, on_delete=models.CASCADE, related_name="scores")
    score_given = models.FloatField()
    score_maximum = models.FloatField()
    activity_progress = models.CharField(max_length=20)
    graded_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    tries = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "resource_link"], name="lti_score_once_per_attempt"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "failed"]),
                name="lti_score_status",
            ),
            models.CheckConstraint(
                condition=Q(status="sending", claimed_until__isnull=False) | ~Q(status="sending"),
                name="lti_score_sending_has_claim",
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"),
                name="lti_score_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_try_at"],
                condition=Q(status="pending"),
                name="lti_score_due",
            ),
            models.Index(
                fields=["claimed_until"],
                condition=Q(status="sending"),
                name="lti_score_claimed",
            ),
            models.Index(fields=["lti_user", "-created_at"], name="lti_score_by_user"),
        ]
        verbose_name = "score to send"

    def __str__(self) -> str:
        return f"{self.lti_user} · {self.score_given:g}/{self.score_maximum:g} · {self.status}"
