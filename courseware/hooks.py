"""Courseware's own hooks (see courseware.plugins): content and demo data."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from .models import Course, Module, Section

CONTENT = Path(__file__).resolve().parent / "content" / "course.json"


@transaction.atomic
def load_content(*, stdout) -> None:
    """Create what is missing; never overwrite a row that exists, so an admin's
    edits survive a re-run and a second run creates nothing."""
    data = json.loads(CONTENT.read_text(encoding="utf-8"))
    course, created = Course.objects.get_or_create(
        slug=data["course"]["slug"],
        defaults={k: v for k, v in data["course"].items() if k != "slug"},
    )
    made = int(created)
    for module_data in data["modules"]:
        sections = module_data.pop("sections")
        module, created = Module.objects.get_or_create(
            course=course,
            slug=module_data["slug"],
            defaults={k: v for k, v in module_data.items() if k != "slug"},
        )
        made += created
        for section_data in sections:
            _, created = Section.objects.get_or_create(
                module=module,
                slug=section_data["slug"],
                defaults={k: v for k, v in section_data.items() if k != "slug"},
            )
            made += created
    stdout.write(f"courseware: {made} new course rows.")
