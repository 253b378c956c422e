"""Reads of the transition path compiled once, run again with other values.

Every transition reads a few rows with queries of a fixed shape (the engine's lock of one
row, the dossier's funding requests, the agent-task process with its open tasks): only
the ids change. Django compiles each queryset to SQL anew (joins, columns, ordering,
quoting), which on these queries costs about as much as the round trip. ``prepared_rows``
compiles a shape once per database connection (alias and vendor), the varying values
standing as markers among the parameters, then runs the same SQL with the call's values
and builds the objects as a queryset does (the compiler's converters, ``from_db``, the
``select_related`` objects).

``insert_one`` writes one new row with an ``INSERT`` built once per model (the history
row, the outbox event of a single transition).

Only for reads whose SQL depends on nothing but the shape's key and the values passed
(no value read from the database at build time, e.g. a content type id, unless it is
passed as a value).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connections, models
from django.db.models.query import get_related_populators

#: Markers standing for the values while a shape is compiled: ints within every integer
#: column's range (an out-of-range value would change the query), far above the ids.
_MARKER_BASE = 2_036_854_775


@dataclass(frozen=True)
class _Shape:
    sql: str
    #: per parameter of the SQL: the index of the call's value, or None (a constant)
    slots: tuple[int | None, ...]
    constants: tuple
    compiler: Any
    model: type[models.Model]
    start: int
    end: int
    init_list: tuple[str, ...]
    converters: dict


_shapes: dict[tuple, _Shape] = {}


def _marker(i: int) -> int:
    return _MARKER_BASE + i


def _compile(build: Callable[..., models.QuerySet], count: int, using: str) -> _Shape:
    qs = build(*(_marker(i) for i in range(count))).using(using)
    compiler = qs.query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    markers = {_marker(i): i for i in range(count)}
    slots = tuple(markers.get(p) if isinstance(p, int) else None for p in params)
    if sorted(s for s in slots if s is not None) != list(range(count)):
        raise ValueError("prepared_rows: each value must appear once among the parameters")
    info = compiler.klass_info
    fields = info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    return _Shape(
        sql=sql,
        slots=slots,
        constants=tuple(params),
        compiler=compiler,
        model=info["model"],
        start=start,
        end=end,
        init_list=tuple(f[0].target.attname for f in compiler.select[start:end]),
        converters=compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]]),
    )


def prepared_rows(
    key: tuple, build: Callable[..., models.QuerySet], values: Sequence[int], using: str
) -> list[models.Model]:
    """The objects of ``build(*values)`` (a queryset of model instances whose SQL depends
    only on ``key``; each value an int, used once by the query), the SQL compiled once
    per ``key`` and connection. Runs in the caller's transaction (a ``select_for_update``
    must be inside one, as with the ORM)."""
    connection = connections[using]
    cache_key = (key, using, connection.vendor)
    shape = _shapes.get(cache_key)
    if shape is None:
        shape = _shapes[cache_key] = _compile(build, len(values), using)
    params = [
        shape.constants[i] if slot is None else values[slot] for i, slot in enumerate(shape.slots)
    ]
    with connection.cursor() as cursor:
        cursor.execute(shape.sql, params)
        rows = cursor.fetchall()
    compiler = shape.compiler
    if compiler.has_extra_select:  # as ``execute_sql`` does: the selected columns only
        rows = [row[: compiler.col_count] for row in rows]
    if shape.converters:
        rows = compiler.apply_converters(rows, shape.converters)
    populators = get_related_populators(compiler.klass_info, compiler.select, using)
    objects = []
    for row in rows:
        obj = shape.model.from_db(using, shape.init_list, row[shape.start : shape.end])
        for populator in populators:
            populator.populate(row, obj)
        objects.append(obj)
    return objects


@lru_cache(maxsize=64)
def _insert_sql(model: type[models.Model], vendor: str, using: str, columns: tuple) -> str:
    """``INSERT`` of one row of ``model``: a placeholder per column, or the SQL given for
    it (``columns``: (column, SQL or None) in the fields' order), ``RETURNING`` the id."""
    connection = connections[using]
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column, _sql in columns)
    values = ", ".join(sql or "%s" for _column, sql in columns)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({values})"
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql


def insert_one(obj: models.Model, using: str, expressions: dict | None = None) -> None:
    """Insert one new object as ``bulk_create([obj])`` does (no signal; each field's
    ``pre_save`` and database value; the new id set on ``obj``), its SQL built once per
    model. ``expressions``: field name → (SQL, its parameters) written instead of the
    field's value (the same SQL for every call)."""
    connection = connections[using]
    expressions = expressions or {}
    columns, params = [], []
    for f in obj._meta.concrete_fields:
        if f.primary_key and getattr(obj, f.attname) is None:
            continue
        expression = expressions.get(f.name)
        if expression is None:
            columns.append((f.column, None))
            params.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
        else:
            columns.append((f.column, expression[0]))
            params.extend(expression[1])
    sql = _insert_sql(type(obj), connection.vendor, using, tuple(columns))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0] if connection.features.can_return_columns_from_insert else None
        if pk is None:
            pk = cursor.lastrowid
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
