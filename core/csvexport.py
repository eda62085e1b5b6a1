"""CSV files that open right in the user's spreadsheet and cannot run anything there.

- Cells a spreadsheet would take for a formula (=, +, -, @, tab, carriage return) are prefixed with
  an apostrophe (OWASP's advice); numbers are left as numbers.
- French users get semicolons, decimal commas (12,5) and a UTF-8 BOM (what French Excel expects,
  accents included: a decimal point makes it read 12.5 as text or a date); English users get
  commas and decimal points. Headers are in the user's language; times in the plant's zone, with the offset.
- Streamed row by row: constant memory whatever the size. Long tables are formatted by PostgreSQL
  (`copy_lines`: COPY … TO STDOUT), to the very bytes the Python writer gives.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Func, TextField, Value
from django.db.models.functions import Concat
from django.http import StreamingHttpResponse
from django.utils import translation

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EMPTY = "''"  # SQL's empty text
COPY_CHUNK_BYTES = 65536
COPY_WORK_MEM = "64MB"  # a year of one plant's rows sorted in memory, not in files


def safe_cell(value: Any, *, decimal_comma: bool = False) -> int | float | Decimal | str:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value).replace(".", ",") if decimal_comma and not isinstance(value, int) else value
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
    writer = csv.writer(_Echo(), delimiter=csv_delimiter())
    french = decimal_comma()
    if french:
        yield "\ufeff"
    for row in rows:
        yield writer.writerow([safe_cell(cell, decimal_comma=french) for cell in row])


def sql_safe_text(expression: str) -> str:
    """SQL for the text `expression` as `safe_cell` writes it: a formula's start neutralised, an
    empty text NULL (PostgreSQL's CSV quotes an empty string; Python's writes nothing)."""
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_STARTS)
    neutralised = (
        f"CASE WHEN left({expression}, 1) IN ({starts}) THEN chr(39) || {expression} ELSE {expression} END"
    )
    return f"NULLIF({neutralised}, '')"


def sql_local_time(at: str, zone: str) -> str:
    """SQL for the timestamp `at` as `local_time` writes it (2026-11-25 14:03:00 +01:00) in the time
    zone whose name `zone` gives (two SQL expressions without parameters: columns). Written in SQL,
    not with the session's TimeZone: that would change how Django reads every later timestamp of
    the transaction."""
    offset = f"(({at}) AT TIME ZONE {zone} - ({at}) AT TIME ZONE 'UTC')"
    return (
        f"to_char(({at}) AT TIME ZONE {zone}, 'YYYY-MM-DD HH24:MI:SS') || CASE WHEN {offset} < interval '0' "
        f"THEN ' -' || to_char(-{offset}, 'HH24:MI') ELSE ' +' || to_char({offset}, 'HH24:MI') END"
    )


class _ColumnsFunc(Func):
    """A text expression of columns written in SQL by `sql(*compiled)`, each column used as often as
    it needs (so: columns only, no parameters to repeat)."""

    output_field = TextField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        if any(params for _sql, params in compiled):
            raise ValueError("columns only")
        return self.sql(*(sql for sql, _params in compiled)), []

    def sql(self, *columns: str) -> str:
        raise NotImplementedError


class CsvLocalTime(_ColumnsFunc):
    """A time cell, as `local_time` writes it, in the zone of another column (each row its own)."""

    def sql(self, *columns: str) -> str:
        at, zone = columns
        return f"COALESCE({sql_local_time(at, zone)}, '')"


class CsvText(_ColumnsFunc):
    """A text cell as `csv_lines` writes it: `safe_cell`'s neutralisation, then quoted (its quotes
    doubled) when it holds the delimiter, a quote or a line break, as Python's csv.writer does. With
    several texts, the first that is not empty (Python's `a or b`)."""

    def __init__(self, *expressions: Any, delimiter: str) -> None:
        super().__init__(*expressions)
        self.delimiter = delimiter

    def sql(self, *columns: str) -> str:
        first = (
            columns[0]
            if len(columns) == 1
            else f"COALESCE({', '.join(f'NULLIF({c}, {EMPTY})' for c in columns)})"
        )
        safe = sql_safe_text(first)
        special = f'[{self.delimiter}"\r\n]'
        return (
            f"COALESCE(CASE WHEN {safe} ~ '{special}' THEN '\"' || replace({safe}, '\"', '\"\"') || '\"' "
            f"ELSE {safe} END, '')"
        )


def csv_line(cells: Sequence[Any], *, delimiter: str) -> Concat:
    """One whole CSV line of `cells` (CsvText, CsvLocalTime…), CRLF-ended, as `csv_lines` writes it:
    built by PostgreSQL, so that a long export costs Python one string per row."""
    parts: list[Any] = []
    for cell in cells:
        parts += [cell, Value(delimiter)]
    return Concat(*parts[:-1], Value("\r\n"), output_field=TextField())


def csv_delimiter() -> str:
    return ";" if translation.get_language() == "fr" else ","


def decimal_comma() -> bool:
    return translation.get_language() == "fr"


def sql_number(expression: str) -> str:
    """SQL for a number cell as `safe_cell` writes it in the user's language (12,5 in French)."""
    return f"replace(({expression})::text, '.', ',')" if decimal_comma() else expression


def copy_lines(queries: Iterable[tuple[str, Sequence[Any]]]) -> Iterator[bytes]:
    """The rows of each (SELECT, params) in turn as CSV lines in the user's dialect, the bytes
    `csv_lines` would give (its delimiter, CRLF line ends), formatted and streamed by PostgreSQL's
    COPY: a year of readings is built at the database's speed, not Python's. In one transaction
    whose sorts stay in memory."""
    delimiter = csv_delimiter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [COPY_WORK_MEM])
        for select, params in queries:
            statement = f"COPY ({select}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
            with cursor.cursor.copy(statement, params) as copy:
                # PostgreSQL sends a row per message: gathered into chunks of about COPY_CHUNK_BYTES,
                # not a write to the client per row.
                chunk = bytearray()
                for block in copy:
                    chunk += block
                    if len(chunk) >= COPY_CHUNK_BYTES:
                        yield _crlf(chunk)
                        chunk = bytearray()
                if chunk:
                    yield _crlf(chunk)


def _crlf(chunk: bytearray) -> bytes:
    # No value here holds a line break (numbers, serials, codes): each LF ends a row.
    return bytes(chunk).replace(b"\n", b"\r\n")


def csv_response(rows: Iterable[Iterable[Any]], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of `rows` (the first one is the header)."""
    return csv_download(csv_lines(rows), filename=filename)


def csv_download(lines: Iterable[str | bytes], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of lines already written (`csv_lines`, `copy_lines`)."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
