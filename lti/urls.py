from django.urls import path

from . import views

app_name = "lti"

urlpatterns = [
    # What the LMS calls (paste these into its tool registration; see lti:setup).
    path("lti/login/", views.oidc_login, name="login"),
    path("lti/launch/", views.launch, name="launch"),
    path("lti/jwks/", views.jwks, name="jwks"),
    # Pages.
    path("lti/setup/", views.setup, name="setup"),
    path("lti/deep-link/<str:token>/", views.deep_link, name="deep-link"),
    path("lti/grades/", views.grades, name="grades"),
    path("teach/classes/<int:pk>/lms/", views.classroom, name="classroom"),
    path("teach/classes/<int:pk>/lms/sync/", views.roster_sync, name="roster-sync"),
]
