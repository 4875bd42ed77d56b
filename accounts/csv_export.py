"""Streamed CSV downloads: rows go out as they are read, so a large export stays cheap."""

import csv
from collections.abc import Iterable

from django.http import StreamingHttpResponse

from .validators import single_line


class _Echo:
    """A file-like object whose write returns the line, for csv.writer to stream with."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: object) -> str:
    """Text that a spreadsheet shows as text, on one line: control characters become a
    space, and a cell starting like a formula is defused."""
    text = single_line(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_download(rows: Iterable[Iterable[object]], *, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = (writer.writerow([csv_cell(cell) for cell in row]) for row in rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
