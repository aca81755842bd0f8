"""LTI's hooks (see courseware.plugins): the class page links to the class's LMS page."""

from __future__ import annotations

from django.urls import reverse

from courseware.plugins import ClassLink


def class_links(*, classroom) -> list[ClassLink]:
    return [
        ClassLink(
            "LMS roster and grades",
            reverse("lti:classroom", kwargs={"pk": classroom.pk}),
            "who has opened the course from Canvas or Moodle, roster sync, grades sent back",
        )
    ]
