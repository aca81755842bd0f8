from django.urls import path

from . import views

app_name = "quiz"

prefix = "courses/<slug:course>/<slug:module>/quiz/"

urlpatterns = [
    path(prefix, views.quiz_detail, name="quiz"),
    path(f"{prefix}start/", views.attempt_start, name="start"),
    path(f"{prefix}attempts/<int:pk>/", views.attempt_detail, name="attempt"),
    path(f"{prefix}attempts/<int:pk>/submit/", views.attempt_submit, name="submit"),
    path(f"{prefix}attempts/<int:pk>/result/", views.attempt_result, name="result"),
]

# The instructor's view of a class (issue 6).
urlpatterns += [
    path("teach/classes/<int:pk>/quiz/", views.class_analytics, name="class"),
]
