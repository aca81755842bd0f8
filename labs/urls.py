from django.urls import path

from . import rlvr_views, step_views, views

app_name = "labs"

PREFIX = "courses/<slug:course>/<slug:module>/"

urlpatterns = [
    path(f"{PREFIX}over-optimisation/", views.overoptimisation, name="overoptimisation"),
    path(f"{PREFIX}optimisers/", step_views.optimisers, name="optimisers"),
    path(f"{PREFIX}rlvr/", rlvr_views.rlvr, name="rlvr"),
]
