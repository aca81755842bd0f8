"""The labs' content loader (see courseware.plugins): the lab pages' text blocks, kept
as courseware TeachingText rows so that an admin edits them where every other lesson
text is edited. Existing rows are left alone (an admin's edit survives a re-run)."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from courseware import content
from courseware.models import TeachingText

TEXTS = Path(__file__).resolve().parent / "content" / "texts.json"


@transaction.atomic
def load_content(*, stdout) -> None:
    data = json.loads(TEXTS.read_text(encoding="utf-8"))
    made = 0
    for item in data["texts"]:
        fields = {k: v for k, v in item.items() if k != "key"}
        made += TeachingText.objects.get_or_create(key=item["key"], defaults=fields)[1]
    stdout.write(f"labs: {made} new text rows.")
    content.bump()
