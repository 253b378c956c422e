"""PostgreSQL array parameters written as one text literal (``'{1,2,3}'``), for the
statements that pass thousands of values in an array (``unnest(%s::bigint[])``).

psycopg dumps a Python list element by element in Python (a regular expression per value
in text format): 5,000 ids cost ~5 ms to send, the same ids as one string ~0.8 ms
(``bench/README.md``). Only integers, dates and booleans are written here — values whose
text has no character an array literal would need to quote — and the literal is still a
bound parameter, never part of the statement's text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def _text(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):  # before int: a bool is an int
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))  # int() of an int subclass: digits and a sign only
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"array literal: unsupported value {type(value).__name__}")


def array_literal(values: Iterable) -> str:
    """The text of a PostgreSQL array of these integers, dates or booleans (None: NULL),
    to be cast by the statement (``%s::bigint[]``, ``%s::date[]``, ``%s::boolean[]``)."""
    return "{" + ",".join(map(_text, values)) + "}"
