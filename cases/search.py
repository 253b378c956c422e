"""Text search over dossiers (« titre, référence ou porteur »), shaped for the indexes.

``title ILIKE %q% OR reference ILIKE %q% OR organisation.name ILIKE %q%`` across a join
cannot use the trigram indexes (migration 0005): PostgreSQL scans every dossier and
evaluates three ``UPPER … LIKE`` per row (100-150 ms on 100,000 dossiers, bench/load.py).
Reading the matching organisations first and filtering the dossiers on their ids keeps
the three conditions on one table, which PostgreSQL answers with a ``BitmapOr`` of three
index scans (7-17 ms).

A reference-shaped query (``GU-2024``, ``GU-ALB-2026-00042``, ``2024-0001``) is read as
ranges of references instead, ordered by reference (newest first), which an index gives
page by page: ``reference_search`` (issue 16: ``GU-2024`` matched 171,064 of a million
dossiers, far down the date order, 740 ms for its page).
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Collate, Concat
from django.db.models.lookups import GreaterThanOrEqual, LessThan

from .models import Case, Organisation

MAX_ORGANISATION_IDS = 5_000  # beyond, the organisations stay a sub-query (same result)


def case_text_filter(q: str) -> Q:
    """Dossiers whose title, reference or organisation name contains ``q`` (any case)."""
    return Q(title__icontains=q) | Q(reference__icontains=q) | _by_organisation(q)


def _by_organisation(q: str) -> Q:
    """Dossiers whose organisation's name contains ``q``: the organisations read first."""
    orgs = Organisation.objects.filter(name__icontains=q).values_list("pk", flat=True)
    ids = list(orgs[: MAX_ORGANISATION_IDS + 1])
    if len(ids) > MAX_ORGANISATION_IDS:
        return Q(organisation_id__in=orgs)
    return Q(organisation_id__in=ids)


# ---------------------------------------------------------------- references (issue 16)

#: A reference or its beginning, typed from any of its parts: ``GU-2024``,
#: ``GU-ALB-2026-00042``, ``GU-ALB``; ``ALB-2026-0004``; ``2024-0001`` (year first).
_FROM_HEAD = re.compile(r"GU-[A-Z0-9-]*")
_FROM_PREFIX = re.compile(r"[A-Z0-9]{2,5}-\d{4}(-\d*)?")
_FROM_YEAR = re.compile(r"\d{4}-\d*")
#: Beyond this many dossiers whose title or porteur also holds the query, they stay
#: sub-queries (same rows, a plan bounded by the matches rather than by the index order).
MAX_OTHER_IDS = 1_000


def reference_prefixes(q: str) -> list[str]:
    """The reference prefixes a reference-shaped ``q`` stands for (empty: not one).

    A reference is ``GU-<year>-<n>`` or ``GU-<prefix>-<year>-<n>``
    (``Territory.format_reference``): ``GU-2024`` is itself a prefix; ``ALB-2026-0004``
    is one after ``GU-``; ``2024-0001`` after ``GU-`` or ``GU-<prefix>-`` of any
    territory. These are the references the contains-search found, read as ranges of an
    index. A bare number or year (``2024``, ``00042``) is not one: a title may hold it."""
    q = (q or "").strip().upper()
    if not q.isascii():
        return []
    if _FROM_HEAD.fullmatch(q):
        return [q]
    heads = []
    if _FROM_PREFIX.fullmatch(q):
        heads.append("GU-")
    if _FROM_YEAR.fullmatch(q):
        from schemes.models import Territory

        codes = Territory.objects.exclude(reference_prefix="").values_list(
            "reference_prefix", flat=True
        )
        heads += ["GU-", *(f"GU-{code}-" for code in sorted(set(codes)))]
    return sorted({head + q for head in heads})


def reference_key():
    """What a reference-shaped search orders by: the reference in byte order (PostgreSQL's
    ``COLLATE "C"``, index ``case_reference_c_idx``, migration 0032; SQLite compares bytes
    already), the same order on both and whatever the database's locale."""
    if connection.vendor == "postgresql":
        return Collate("reference", "C")
    return F("reference")


def _after_prefix(prefix: str) -> str:
    """The first string past every string starting with ``prefix`` (ASCII, byte order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def reference_ranges(prefixes: list[str]) -> Q:
    """References starting with one of ``prefixes``: ranges of ``reference_key()``, which
    PostgreSQL reads from the index in the list's order (no ``LIKE`` escaping, no
    collation of the database in the way)."""
    key = reference_key()
    ranges = Q()
    for prefix in prefixes:
        ranges |= Q(GreaterThanOrEqual(key, prefix), LessThan(key, _after_prefix(prefix)))
    return ranges


def reference_search(qs: QuerySet, q: str, prefixes: list[str]) -> QuerySet:
    """The dossiers of a reference-shaped search, newest reference first.

    The rows are those of ``case_text_filter``: the references of the ranges, plus the
    dossiers whose title or porteur's name holds ``q`` (read first, by their trigram
    indexes). With none of the latter (the usual case), PostgreSQL walks the index from
    the top of the range and stops at the page. With some, the order is the same but
    written so that no index gives it: an ``OR`` cannot be an index condition, and the
    planner, given the index order, would walk every reference above the range
    (``GU-2026…`` before ``GU-2024…``) — instead it reads the matches of each condition
    (bitmaps) and sorts them, a time bounded by the number of matches."""
    ranges = reference_ranges(prefixes)
    others = Q(title__icontains=q) | _by_organisation(q)
    other_ids = list(
        Case.objects.filter(others, reference__isnull=False)
        .order_by()
        .values_list("pk", flat=True)[: MAX_OTHER_IDS + 1]
    )
    if not other_ids:
        return qs.filter(ranges).order_by(reference_key().desc())
    if len(other_ids) <= MAX_OTHER_IDS:
        others = Q(pk__in=other_ids)
    unindexed = F("reference")
    if connection.vendor == "postgresql":
        unindexed = Collate(Concat("reference", Value("")), "C")
    return qs.filter(ranges | (others & Q(reference__isnull=False))).order_by(unindexed.desc())


def list_ordering(q: str) -> str:
    """The order of the dossier list for the search ``q``, as the API states it
    (``ordering``): ``-reference`` for a reference-shaped one, else ``-created_at``."""
    return "-reference" if reference_prefixes(q) else "-created_at"
