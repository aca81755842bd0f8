"""LTI on the module overview and the instructor's class page (courseware.plugins)."""

from __future__ import annotations

from django.urls import reverse

from courseware.plugins import ClassLink, Panel


def overview_panels(*, user, module) -> list[Panel]:
    """Where a learner who came from an LMS finds whether their grade reached it.

    No query: the panel shows in a session an LMS launch started (the session, already
    read for the user, names the platform; see lti/framing.py). Anyone else's overview
    renders nothing of it, so the overview costs the same for everyone."""
    if not user.is_authenticated:
        return []
    return [Panel("lti/panel.html")]


def class_links(*, classroom) -> list[ClassLink]:
    return [
        ClassLink(
            "LMS roster and grades",
            reverse("lti:classroom", kwargs={"pk": classroom.pk}),
            "who has opened the course from Canvas or Moodle, roster sync, grades sent back",
        )
    ]
