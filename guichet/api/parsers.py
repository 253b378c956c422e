"""A JSON parser that lets nothing the database cannot store through: no NaN/Infinity,
no out-of-range floats, no NUL characters, no absurd nesting."""

from __future__ import annotations

import codecs
import json
import math

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 20


def _reject_constant(value):
    raise ValueError(f"valeur non numérique « {value} »")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"nombre hors limites « {text[:20]} »")
    return value


def check_clean(value, depth: int = 0) -> None:
    """Raise ParseError for NUL characters or excessive nesting anywhere in ``value``."""
    if depth > MAX_DEPTH:
        raise ParseError("Requête illisible : imbrication trop profonde.")
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError("Requête illisible : caractère nul interdit.")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_clean(key, depth + 1)
            check_clean(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_clean(item, depth + 1)


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding") or "utf-8"
        try:
            decoded = codecs.getreader(encoding)(stream)
            data = json.load(decoded, parse_constant=_reject_constant, parse_float=_finite_float)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"Requête illisible : JSON mal formé ({str(exc)[:120]}).") from None
        check_clean(data)
        return data
