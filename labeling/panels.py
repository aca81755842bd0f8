"""Labeling on the module overview and the instructor's class page (courseware.plugins)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from courseware.plugins import ClassLink, Panel, RosterColumn

from .models import LabelingSession, Pick


def overview_panels(*, user, module) -> list[Panel]:
    from courseware.catalog import course_catalog

    from .sessions import labeling_status

    if not user.is_authenticated:
        return []
    content = course_catalog().module(module.course.slug, module.slug)
    section = content.by_url_name.get("labeling:session")
    if section is None:  # a module without the labeling exercise gets no panel
        return []
    status = labeling_status(user=user)
    return [Panel(template="labeling/panel.html", context={"status": status, "section": section})]


# ----------------------------------------------------------------- instructor view


def roster_columns(*, classroom):
    """Per student: finished labeling at least once; picks in their latest session."""
    finished = LabelingSession.objects.filter(user=OuterRef("pk"), finished_at__isnull=False)
    latest = (
        LabelingSession.objects.filter(user=OuterRef(OuterRef("pk")))
        .order_by("-started_at")
        .values("pk")[:1]
    )
    picks = (
        Pick.objects.filter(session_id=Subquery(latest))
        .order_by()
        .values("session_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return [
        RosterColumn("labeling_finished", "Labeling finished", Exists(finished), kind="bool"),
        RosterColumn("labeling_picks", "Pairs labeled", Coalesce(Subquery(picks), 0)),
    ]


def class_links(*, classroom):
    kwargs = {"pk": classroom.pk}
    return [
        ClassLink(
            "Class preferences",
            reverse("labeling:class-preferences", kwargs=kwargs),
            "how the class split on each pair, its reward model and labeler agreement",
        ),
        ClassLink(
            "Class preferences (JSONL)",
            reverse("labeling:class-preferences-jsonl", kwargs=kwargs),
            "every pick in Hugging Face TRL's conversational preference format",
        ),
        ClassLink(
            "Class preferences (CSV)",
            reverse("labeling:class-preferences-csv", kwargs=kwargs),
            "one row per pick, students as pseudonyms",
        ),
    ]
