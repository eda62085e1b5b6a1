"""CSV files that open right in the user's spreadsheet and cannot run anything there.

- Cells a spreadsheet would take for a formula (=, +, -, @, tab, carriage return) are prefixed with
  an apostrophe (OWASP's advice); numbers are left as numbers.
- French users get semicolons and a UTF-8 BOM (what French Excel expects, accents included); English
  users get commas. Headers are in the user's language; times in the plant's zone, with the offset.
- Streamed row by row: constant memory whatever the size.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import translation

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> int | float | Decimal | str:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def local_time(moment: datetime | None, tz: tzinfo) -> str:
    """A time as a spreadsheet reads it, in the plant's zone with its offset: 2026-11-25 14:03:00 +01:00."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """`rows` (the first one is the header) as CSV text lines, in the user's spreadsheet's dialect."""
    french = translation.get_language() == "fr"
    writer = csv.writer(_Echo(), delimiter=";" if french else ",")
    if french:
        yield "\ufeff"
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def csv_response(rows: Iterable[Iterable[Any]], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of `rows` (the first one is the header)."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
