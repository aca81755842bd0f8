"""Courseware's content loader (see courseware.plugins): the course and the teaching pages."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from . import content
from .models import (
    ComparePrompt,
    CompareResponse,
    Course,
    Figure,
    Module,
    PipelineStage,
    RecapRow,
    Section,
    SFTExample,
    Source,
    TeachingText,
)

CONTENT = Path(__file__).resolve().parent / "content" / "course.json"
TEACHING = Path(__file__).resolve().parent / "content" / "teaching.json"


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
            if Section.objects.filter(module=module, slug=section_data["slug"]).exists():
                continue
            fields = {k: v for k, v in section_data.items() if k != "slug"}
            # The order is unique in a module: a section an admin put at this position
            # keeps it, and the new one goes last.
            if Section.objects.filter(module=module, order=fields["order"]).exists():
                last = Section.objects.filter(module=module).order_by("-order").first()
                fields["order"] = last.order + 1
            Section.objects.create(module=module, slug=section_data["slug"], **fields)
            made += 1
    stdout.write(f"courseware: {made} new course rows.")
    _load_teaching(stdout=stdout)
    content.bump()


def _rest(data: dict, *drop: str) -> dict:
    return {k: v for k, v in data.items() if k not in drop}


def _load_teaching(*, stdout) -> None:
    """The teaching pages' content, by natural key; existing rows are left alone."""
    data = json.loads(TEACHING.read_text(encoding="utf-8"))
    made = 0
    sources = {}
    for item in data["sources"]:
        sources[item["key"]], created = Source.objects.get_or_create(
            key=item["key"], defaults=_rest(item, "key")
        )
        made += created
    for item in data["texts"]:
        made += TeachingText.objects.get_or_create(key=item["key"], defaults=_rest(item, "key"))[1]
    for item in data["stages"]:
        stage, created = PipelineStage.objects.get_or_create(
            slug=item["slug"], defaults=_rest(item, "slug", "sources")
        )
        if created:  # links belong to the row: set only when we made it
            stage.sources.set([sources[key] for key in item["sources"]])
        made += created
    for item in data["figures"]:
        made += Figure.objects.get_or_create(
            key=item["key"],
            defaults={**_rest(item, "key", "source"), "source": sources[item["source"]]},
        )[1]
    for item in data["sft_examples"]:
        made += SFTExample.objects.get_or_create(
            slug=item["slug"], defaults=_with_source(_rest(item, "slug"), sources)
        )[1]
    for item in data["compare_prompts"]:
        prompt, created = ComparePrompt.objects.get_or_create(
            slug=item["slug"], defaults=_rest(item, "slug", "responses")
        )
        made += created
        for response in item["responses"]:
            made += CompareResponse.objects.get_or_create(
                prompt=prompt,
                stage=response["stage"],
                defaults=_with_source(_rest(response, "stage"), sources),
            )[1]
    stages = {stage.slug: stage for stage in PipelineStage.objects.all()}
    for item in data["recap"]:
        row, created = RecapRow.objects.get_or_create(
            slug=item["slug"],
            defaults={
                **_rest(item, "slug", "stage", "sources"),
                "stage": stages.get(item["stage"]),
            },
        )
        if created:
            row.sources.set([sources[key] for key in item["sources"]])
        made += created
    stdout.write(f"courseware: {made} new teaching rows.")


def _with_source(fields: dict, sources: dict[str, Source]) -> dict:
    """A sample output's fields with its source named by key (published outputs)."""
    if "source" in fields:
        return {**fields, "source": sources[fields["source"]]}
    return fields
