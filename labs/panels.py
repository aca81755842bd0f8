"""The labs on the instructor's class page (courseware.plugins)."""

from __future__ import annotations

from django.urls import reverse

from courseware.plugins import ClassLink


def class_links(*, classroom) -> list[ClassLink]:
    return [
        ClassLink(
            "Class over-optimisation",
            reverse("labs:class-overoptimisation", kwargs={"pk": classroom.pk}),
            "the class's reward model as gold against each student's own: how far each "
            "student's model can push before the class disagrees",
        )
    ]
