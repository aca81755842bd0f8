"""LTI's hooks (see courseware.plugins): a learner from an LMS finds their grade report;
the class page links to the class's LMS page."""

from __future__ import annotations

from django.urls import reverse

from courseware.plugins import ClassLink, Panel

from .models import Platform


def overview_panels(*, user, module) -> list[Panel]:
    """For learners who came from an LMS only (one query): where their score goes, and a
    link to the page that says whether it arrived (kept up to date there, not here)."""
    if not user.is_authenticated:
        return []
    names = list(
        Platform.objects.filter(users__user=user).values_list("name", flat=True).distinct()
    )
    if not names:
        return []
    return [Panel("lti/panel.html", {"platforms": names})]


def class_links(*, classroom) -> list[ClassLink]:
    return [
        ClassLink(
            "LMS roster and grades",
            reverse("lti:classroom", kwargs={"pk": classroom.pk}),
            "who has opened the course from Canvas or Moodle, roster sync, grades sent back",
        )
    ]
