"""Streaming CSV exports: rows are produced from a server-side cursor and written
one at a time, so memory stays flat however large the class is."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from .plugins import RosterColumn

CHUNK = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # Spreadsheet formula injection: a username like "=HYPERLINK(...)" stays text.
        return "'" + value
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def streaming_csv(rows: Iterable[Iterable[Any]], *, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([_cell(v) for v in row]) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def gradebook_rows(
    *, roster: QuerySet, columns: list[RosterColumn], section_total: int
) -> Iterator[list[Any]]:
    yield ["username", "email", "joined_at", "sections_total", *[c.key for c in columns]]
    for student in roster.iterator(chunk_size=CHUNK):
        yield [
            student.get_username(),
            student.email,
            student.joined_at,
            section_total,
            *[getattr(student, c.key) for c in columns],
        ]
