from django.urls import path

from . import views

app_name = "labeling"

PREFIX = "courses/<slug:course>/<slug:module>/"

urlpatterns = [
    path(f"{PREFIX}label/", views.session_page, name="session"),
    path(f"{PREFIX}label/start/", views.session_new, name="session-new"),
    path(f"{PREFIX}label/sessions/<int:session>/pick/", views.pick, name="pick"),
    path(f"{PREFIX}label/sessions/<int:session>/finish/", views.finish, name="finish"),
    path(f"{PREFIX}label/my-preferences.jsonl", views.export_jsonl, name="export"),
    path(f"{PREFIX}reward-profile/", views.profile_page, name="profile"),
    path(f"{PREFIX}policy/", views.policy_page, name="policy"),
    path(f"{PREFIX}critique/", views.critique_page, name="critique"),
    path(f"{PREFIX}rlaif/", views.rlaif_page, name="rlaif"),
]

# The instructor's class view (teach/ pages; courseware owns the class page itself).
urlpatterns += [
    path(
        "teach/classes/<int:pk>/preferences/",
        views.class_preferences,
        name="class-preferences",
    ),
    path(
        "teach/classes/<int:pk>/preferences.jsonl",
        views.class_preferences_jsonl,
        name="class-preferences-jsonl",
    ),
    path(
        "teach/classes/<int:pk>/preferences.csv",
        views.class_preferences_csv,
        name="class-preferences-csv",
    ),
]
