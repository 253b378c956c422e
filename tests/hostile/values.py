"""Hostile values shared by the API and web-form fuzzers: huge exponents, Unicode digits,
« 1_000 », booleans, null, deep nesting, megabyte strings, NUL bytes, years 1 and 9999,
negative, zero and over-precise amounts, ids beyond a bigint.

``Raw`` marks a JSON token written as is into a body (``1e999999999`` as a JSON *number*,
not a string), which no Python value can stand for."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import strategies as st


@dataclass(frozen=True)
class Raw:
    """A JSON token sent verbatim (a number too large for a float, a 5,000-digit integer)."""

    token: str

    def __repr__(self) -> str:
        return f"Raw({self.token[:40]!r}{'…' if len(self.token) > 40 else ''})"


def nested(depth: int, kind: str = "list"):
    value: object = "1"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


MEGABYTE = "x" * 1_000_000
MEGABYTE_DIGITS = "1" * 1_000_000
MEGABYTE_ACCENTS = "é" * 500_000  # 1 MB of UTF-8

HUGE = [
    "1e999999999",
    "1e300000",
    "-1e999999999",
    "1E+999999999",
    "1e-999999999",
    "9" * 5000,
    Raw("1e999999999"),
    Raw("1e300000"),
    Raw("9" * 5000),
    1e308,
    10**40,
    2**63,
    2**64,
    -(2**63) - 1,
]
UNICODE_DIGITS = ["١٢٣", "²", "①", "１２３", "٣.٥", "१२३", "𝟙𝟚𝟛", "12\u200b", "１"]
NUMBER_TRICKS = ["1_000", "1_000.00", "0x10", "NaN", "Infinity", "-Infinity", "sNaN", "1 000"]
AMOUNTS = ["-1", "-0.01", "0", "0.00", 0, -5, "12.345", "0.005", 12.345, "-0", "1e30", 1e30]
BOOLEANS = [True, False, "true", "false", "on"]
NULLS = [None, "", " ", "null"]
NESTINGS = [nested(200), nested(200, "dict"), nested(19), [[]], {}, [], {"a": [1, {"b": None}]}]
BIG_TEXTS = [MEGABYTE, MEGABYTE_DIGITS, MEGABYTE_ACCENTS, "a" * 5001, "a" * 20001]
NUL_TEXTS = ["\x00", "abc\x00def", "2026-01-01\x00", "12\x00"]
DATES = [
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "01/01/0001",
    "31/12/9999",
    "２０２６-０１-０１",
    "2026-01-01T10:00:00",
    "+2026-01-01",
    "1999-12-31",
    "2100-01-01",
]
IDS = [0, -1, 2**63, 2**64, "99999999999999999999999", "1.0", 1.5, "0x10", "١"]
TEXTS = ['=HYPERLINK("http://x")', "<script>alert(1)</script>", "\u202e", "🇫🇷", "' OR 1=1 --"]

KILLERS = [
    *HUGE,
    *UNICODE_DIGITS,
    *NUMBER_TRICKS,
    *AMOUNTS,
    *BOOLEANS,
    *NULLS,
    *NESTINGS,
    *BIG_TEXTS,
    *NUL_TEXTS,
    *DATES,
    *IDS,
    *TEXTS,
]

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.text(alphabet="0123456789٠١٢３²①.,_ eE-+", max_size=12),
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
#: Any hostile value for a JSON body: the known killers most of the time.
hostile_json = st.one_of(st.sampled_from(KILLERS), st.sampled_from(KILLERS), json_values)


def as_text(value) -> str:
    """The value as a form field carries it (a string)."""
    if isinstance(value, Raw):
        return value.token
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)[:2_000_000]


TEXT_KILLERS = sorted({as_text(v) for v in KILLERS}, key=lambda t: (len(t), t))
#: Any hostile value for a form field (text only).
hostile_text = st.one_of(
    st.sampled_from(TEXT_KILLERS),
    st.sampled_from(TEXT_KILLERS),
    st.text(max_size=30),
    st.text(alphabet="0123456789٠١٢３²①.,_ eE-+/", max_size=12),
)

#: Whole bodies that are not an object, or not JSON at all (raw bytes).
WHOLE_BODIES = [
    b"",
    b"{}",
    b"[]",
    b'"texte"',
    b"42",
    b"null",
    b"true",
    b"1e999999999",
    json.dumps(nested(200)).encode(),
    json.dumps(nested(200, "dict")).encode(),
    b'{"a":',
    b"\xff\xfe\x00",
    b'{"a": NaN}',
    b'{"a": 1e999999999}',
    json.dumps(MEGABYTE).encode(),
    b'{"a": "\\u0000"}',
]


def encode(body) -> bytes:
    """JSON bytes of ``body`` with every ``Raw`` token written verbatim."""
    tokens: dict[str, str] = {}

    def walk(value):
        if isinstance(value, Raw):
            key = f"@@raw{len(tokens)}@@"
            tokens[key] = value.token
            return key
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    text = json.dumps(walk(body), ensure_ascii=False)
    for key, token in tokens.items():
        text = text.replace(json.dumps(key), token)
    return text.encode()
