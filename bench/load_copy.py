"""Bulk writing for the load test's loader: PostgreSQL ``COPY`` of rows given as tuples or
as ``{attname: value}`` dicts, batch after batch, and the sequences reset after it."""

from __future__ import annotations

import datetime as dt
import json


def copy_rows(table: str, columns: list[str], rows) -> int:
    """``COPY table (columns) FROM STDIN``; ``rows`` yields tuples. Returns the count."""
    from django.db import connection

    n = 0
    with connection.cursor() as cur:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cur.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
    return n


class ModelCopy:
    """COPY of one model's rows given as ``{attname: value}``, one batch at a time; the
    other fields take their default, evaluated once for every batch (so that a column
    added later by a colleague does not break this), and the columns are fixed by the
    first batch (with the primary key if its rows carry it)."""

    def __init__(self, model):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.defaults = {}
        for f in self.fields:
            if f.has_default():
                self.defaults[f.attname] = f.get_default()
            elif f.null:
                self.defaults[f.attname] = None
            elif f.primary_key:
                continue
            elif hasattr(f, "auto_now") and (f.auto_now or f.auto_now_add):
                self.defaults[f.attname] = dt.datetime.now(dt.UTC)
        self.attnames: list[str] | None = None
        self.columns: list[str] = []
        self.count = 0

    def write(self, rows: list[dict]) -> int:
        if not rows:
            return 0
        if self.attnames is None:
            with_pk = self.model._meta.pk.attname in rows[0]
            fields = [f for f in self.fields if with_pk or not f.primary_key]
            self.columns = [f.column for f in fields]
            self.attnames = [f.attname for f in fields]
        attnames, defaults = self.attnames, self.defaults

        def gen():
            for row in rows:
                out = []
                for a in attnames:
                    v = row.get(a, defaults.get(a))
                    if isinstance(v, dict | list):
                        v = json.dumps(v)
                    out.append(v)
                yield tuple(out)

        n = copy_rows(self.model._meta.db_table, self.columns, gen())
        self.count += n
        return n


def copy_model(model, rows: list[dict]) -> int:
    """COPY rows given as ``{attname: value}`` in one go."""
    return ModelCopy(model).write(rows)


def next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def reset_sequences(*models) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for m in models:
            t = m._meta.db_table
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {t}))"
            )
