"""Streamed CSV downloads: rows go out as they are read, so a large export stays cheap."""

import csv
from collections.abc import Iterable, Iterator

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


def _chunks(lines: Iterable[str], size: int) -> Iterator[str]:
    """Lines joined `size` at a time: one write to the socket per chunk, not per row."""
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= size:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def csv_download(
    rows: Iterable[Iterable[object]], *, filename: str, rows_per_chunk: int = 1
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = _chunks(
        (writer.writerow([csv_cell(cell) for cell in row]) for row in rows), rows_per_chunk
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
