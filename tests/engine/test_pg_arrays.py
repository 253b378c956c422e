"""``engine.pg_arrays.array_literal``: the array PostgreSQL reads back is the list given
(integers, dates, booleans, NULL), and nothing else can be written into a literal."""

import datetime as dt

import pytest
from django.db import connection

from engine.pg_arrays import array_literal


def test_the_text_of_each_kind():
    assert array_literal([1, -2, 3]) == "{1,-2,3}"
    assert array_literal([dt.date(2026, 12, 2), None]) == "{2026-12-02,NULL}"
    assert array_literal([True, False]) == "{t,f}"
    assert array_literal([]) == "{}"


@pytest.mark.parametrize("value", ["1}", "a,b", 1.5, dt.datetime(2026, 1, 1), b"1"])
def test_anything_else_is_refused(value):
    with pytest.raises(TypeError):
        array_literal([1, value])


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "cast"),
    [
        ([1, 2**62, -7, None], "bigint"),
        ([dt.date(2026, 2, 28), dt.date(1999, 12, 31), None], "date"),
        ([3, -5], "smallint"),
        ([True, False, None], "boolean"),
    ],
)
def test_postgresql_reads_the_same_values_back(values, cast):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT unnest(%s::{cast}[])", [array_literal(values)])
        assert [row[0] for row in cursor.fetchall()] == values
