"""Set-based writes for the poll's many rows: one statement per table and batch, arrays bound in
binary by the server. They bypass `save()` and signals (docs/architecture/invariants.md)."""

import time
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection, models

from .fields import Bits32Field, ScaledIntegerField


def update_rows(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str], *, condition: str = "TRUE"
) -> set[int]:
    """One UPDATE … FROM unnest(arrays) for many rows (those that meet `condition`, SQL over the
    table `t` and the new values `v`); returns the ids updated. Django's bulk_update builds a CASE
    per row and field, which costs seconds per thousand rows; this costs milliseconds."""
    if not objs:
        return set()
    columns, arrays = _arrays(model, objs, fields)
    assignments = ", ".join(f'"{c.column}" = v."{c.column}"' for c in columns)
    unnest = ", ".join(f"%b::{t}[]" for t in ["bigint", *(c.db_type(connection) for c in columns)])
    names = ", ".join(["id", *(f'"{c.column}"' for c in columns)])
    rows = _execute_binary(
        f'UPDATE "{model._meta.db_table}" AS t SET {assignments} FROM unnest({unnest}) AS v({names}) '
        f"WHERE t.id = v.id AND ({condition}) RETURNING t.id",
        [[obj.pk for obj in objs], *arrays],
    )
    return {pk for (pk,) in rows}


def insert_rows(
    model: type[models.Model],
    objs: Sequence[models.Model],
    fields: Sequence[str],
    *,
    on_conflict: str | None = None,
) -> None:
    """One INSERT … SELECT FROM unnest(arrays) for many rows, with its ON CONFLICT clause if any."""
    if not objs:
        return
    columns, arrays = _arrays(model, objs, fields)
    unnest = ", ".join(f"%b::{c.db_type(connection)}[]" for c in columns)
    names = ", ".join(f'"{c.column}"' for c in columns)
    conflict = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    _execute_binary(
        f'INSERT INTO "{model._meta.db_table}" ({names}) SELECT * FROM unnest({unnest}){conflict}', arrays
    )


def _arrays(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]
) -> tuple[list[Any], list[list[Any]]]:
    columns = [model._meta.get_field(name) for name in fields]
    return columns, [_column_values(c, objs) for c in columns]


def _column_values(column: Any, objs: Sequence[models.Model]) -> list[Any]:
    """One column's values as psycopg takes them. Only the fields that change a value on its way to
    the database are asked to (Django's conversion of every int, str and aware datetime, which these
    already are, costs more than the write itself at fleet scale)."""
    values = [getattr(obj, column.attname) for obj in objs]
    if isinstance(column, ScaledIntegerField | Bits32Field | models.JSONField):
        return [column.get_db_prep_save(value, connection) for value in values]
    return values


def _execute_binary(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Arrays bound by the server, in binary (%b): psycopg sends each as it is, where Django's
    client-side binding quotes every element into the SQL text (seconds per 10,000-row batch)."""
    connection.ensure_connection()
    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
    if connection.queries_logged:  # logged as Django's own cursors log (tests, debug views)
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return rows
