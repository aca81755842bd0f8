"""Root URLconf."""

from django.contrib import admin
from django.urls import include, path

from . import teaching_views, views

course_patterns = [
    path("", views.home, name="home"),
    path("continue/", views.resume, name="continue"),
    path("signup/", views.signup, name="signup"),
    path("join/", views.join, name="join"),
    path("teach/", views.teach, name="teach"),
    path("teach/classes/<int:pk>/", views.classroom_detail, name="classroom"),
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
    path("", include((course_patterns, "courseware"))),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
