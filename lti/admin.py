from django.contrib import admin, messages

from . import passback
from .models import (
    Deployment,
    LtiContext,
    LtiUser,
    Membership,
    Platform,
    ResourceLink,
    ScoreOutbox,
    ToolKey,
)


class DeploymentInline(admin.TabularInline):
    model = Deployment
    extra = 1


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["name", "issuer", "client_id", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "issuer", "client_id"]
    inlines = [DeploymentInline]
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        (
            "What the LMS shows when you register the tool",
            {
                "fields": [
                    "issuer",
                    "client_id",
                    "auth_login_url",
                    "auth_token_url",
                    "auth_audience",
                    "key_set_url",
                ]
            },
        ),
        ("Framing", {"fields": ["frame_origins"]}),
    ]


@admin.register(ToolKey)
class ToolKeyAdmin(admin.ModelAdmin):
    """The private key is never shown: not a field here, not in any page."""

    list_display = ["kid", "created_at", "is_active"]
    fields = ["kid", "created_at", "is_active", "public_jwk"]
    readonly_fields = ["kid", "created_at", "public_jwk"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are made by `manage.py lti_generate_key`


@admin.register(LtiUser)
class LtiUserAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "platform", "user", "created_at"]
    list_filter = ["platform"]
    search_fields = ["name", "email", "sub", "user__username"]
    readonly_fields = ["platform", "sub", "user", "created_at"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["lti_user", "is_instructor", "status", "first_launch_at", "last_launch_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(LtiContext)
class LtiContextAdmin(admin.ModelAdmin):
    list_display = ["title", "context_id", "platform", "classroom", "roster_synced_at"]
    list_filter = ["platform"]
    search_fields = ["title", "context_id"]
    readonly_fields = ["platform", "context_id", "classroom", "roster_synced_at"]
    inlines = [MembershipInline]


@admin.register(ResourceLink)
class ResourceLinkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "context", "module", "section", "lineitem_url"]
    list_filter = ["context__platform"]
    readonly_fields = ["context", "resource_link_id", "ags_scopes"]


@admin.register(ScoreOutbox)
class ScoreOutboxAdmin(admin.ModelAdmin):
    list_display = ["lti_user", "score_given", "score_maximum", "status", "tries", "next_try_at"]
    list_filter = ["status", "resource_link__context__platform"]
    readonly_fields = [field.name for field in ScoreOutbox._meta.fields]
    actions = ["send_now"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Send the selected pending scores now")
    def send_now(self, request, queryset):
        report = passback.send_due(ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"Sent {report.sent}, will retry {report.retry}, refused {report.failed}.",
            messages.SUCCESS if not report.retry and not report.failed else messages.WARNING,
        )
