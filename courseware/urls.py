"""Root URLconf."""

from django.contrib import admin
from django.urls import include, path

from . import auth_views, health, teaching_views, views

course_patterns = [
    path("", views.home, name="home"),
    path("continue/", views.resume, name="continue"),
    path("signup/", views.signup, name="signup"),
    path("join/", views.join, name="join"),
    path("teach/", views.teach, name="teach"),
    path("teach/classes/<int:pk>/", views.classroom_detail, name="classroom"),
    path("teach/privacy/", views.privacy_toggle, name="privacy"),
    path("teach/classes/<int:pk>/gradebook.csv", views.classroom_gradebook, name="gradebook"),
    path(
        "teach/classes/<int:pk>/join-code/",
        views.classroom_regenerate_code,
        name="classroom-regenerate-code",
    ),
    path("courses/<slug:course>/", views.course_detail, name="course"),
    path("courses/<slug:course>/<slug:module>/", views.module_detail, name="module"),
    # The teaching pages: before the generic section pattern, which would take their paths.
    # Stages live under pipeline/stage/ so that pipeline/done/ stays the Done button's URL.
    path(
        "courses/<slug:course>/<slug:module>/pipeline/",
        teaching_views.pipeline,
        name="pipeline",
    ),
    path(
        "courses/<slug:course>/<slug:module>/pipeline/stage/<slug:stage>/",
        teaching_views.pipeline_stage,
        name="pipeline-stage",
    ),
    path(
        "courses/<slug:course>/<slug:module>/pre-training/",
        teaching_views.pretraining,
        name="pretraining",
    ),
    path("courses/<slug:course>/<slug:module>/sft/", teaching_views.sft, name="sft"),
    path("courses/<slug:course>/<slug:module>/compare/", teaching_views.compare, name="compare"),
    path(
        "courses/<slug:course>/<slug:module>/compare/guess/",
        teaching_views.compare_guess,
        name="compare-guess",
    ),
    path(
        "courses/<slug:course>/<slug:module>/closing/",
        teaching_views.closing,
        name="closing",
    ),
    path(
        "courses/<slug:course>/<slug:module>/<slug:section>/",
        views.section_detail,
        name="section",
    ),
    path(
        "courses/<slug:course>/<slug:module>/<slug:section>/done/",
        views.section_done,
        name="section-done",
    ),
]

urlpatterns = [
    # The apps' section pages come first: their paths (courses/<course>/<module>/labeling/ …)
    # would otherwise be taken by courseware's generic reading-section pattern.
    path("", include("labeling.urls")),
    path("", include("quiz.urls")),
    path("", include("labs.urls")),
    path("", include("lti.urls")),
    path("", include((course_patterns, "courseware"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # The rest of django.contrib.auth's URLs (logout, the "done" pages); the names
    # above are matched first.
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("livez", health.livez, name="livez"),
]

# A database outage answers 503 with Retry-After rather than 500 (see the view).
handler500 = "courseware.errors.server_error"
