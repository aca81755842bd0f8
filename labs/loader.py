"""The labs' content loader (see courseware.plugins): the RLVR lab's checkable tasks and
the lesson text of every lab, from labs/content/*.json. Text blocks are courseware
TeachingText rows, so an admin edits them where every other lesson text is edited."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from courseware import content
from courseware.models import TeachingText

from .models import RLVRAnswer, RLVRTask
from .rlvr import Answer, Task

CONTENT = Path(__file__).resolve().parent / "content"


def _read(name: str):
    return json.loads((CONTENT / name).read_text(encoding="utf-8"))


@transaction.atomic
def load_content(*, stdout) -> None:
    """Create what is missing, by natural key; never overwrite a row that exists (an
    admin's edit survives a re-run) and never duplicate one."""
    made = (
        _load_rlvr_tasks()
        + _load_texts(_read("texts.json")["texts"])  # the over-optimisation lab
        + _load_texts(_read("steps_texts.json"))  # the optimiser and RLVR labs
    )
    stdout.write(f"labs: {made} new rows.")
    content.bump()


def _load_rlvr_tasks() -> int:
    tasks = _read("rlvr_tasks.json")
    for item in tasks:  # a broken file fails before anything is written
        try:
            Task(
                slug=item["slug"],
                prompt=item["prompt"],
                kind=item["kind"],
                params=item["params"],
                answers=tuple(
                    Answer(a["label"], a["text"], a["ref_prob"]) for a in item["answers"]
                ),
            )
        except (ValueError, KeyError) as exc:
            raise ValidationError(
                f"labs/content/rlvr_tasks.json: {item.get('slug')}: {exc}"
            ) from exc
    made = 0
    for item in tasks:
        task, created = RLVRTask.objects.get_or_create(
            slug=item["slug"],
            defaults={k: v for k, v in item.items() if k not in ("slug", "answers")},
        )
        made += created
        if created:  # answers belong to the task: set only when we made it
            RLVRAnswer.objects.bulk_create(RLVRAnswer(task=task, **a) for a in item["answers"])
            made += len(item["answers"])
    return made


def _load_texts(items: list[dict]) -> int:
    made = 0
    for item in items:
        made += TeachingText.objects.get_or_create(
            key=item["key"], defaults={k: v for k, v in item.items() if k != "key"}
        )[1]
    return made
