"""Pages of long lists in bounded time (issue 16, one million dossiers).

- ``CappedPaginator``: the count of a list is exact up to ``COUNT_CAP`` rows; beyond, it
  stops counting (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``) and says so
  (``paginator.capped``): « plus de 500 dossiers ». An exact ``COUNT(*)`` over a
  region's million dossiers reads every matching index entry (and, for the scheme or
  text filters, probes each row) on every page. Pages past the cap still work: whether
  there is a next page is read from one row more than the page.
- the keyset (« curseur ») of the dossier list, ordered ``-created_at, -id``
  (``case_created_idx`` and ``case_territory_created_idx``): ``after=<curseur>`` gives the
  dossiers after the last one read, in the time of the first page whatever the depth,
  where ``OFFSET`` reads and drops every row before the page. A reference-shaped search
  is ordered ``-reference`` (``cases.search.reference_search``): its cursor is the last
  reference read (``order="-reference"``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import inspect
import math
import re

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Q, QuerySet
from django.db.models.lookups import LessThan
from django.utils.functional import cached_property
from django.utils.inspect import method_has_no_args

from engine.errors import DomainError

from .search import reference_key

COUNT_CAP = 500  # exact counts up to this many rows; « plus de 500 » beyond
REFERENCE_RE = re.compile(r"[A-Z0-9-]{1,20}")  # a cursor's reference (Case.reference)


class CappedPage(Page):
    """A page of a capped list: ``has_next`` from the row read past the page."""

    more: bool | None = None

    def has_next(self) -> bool:
        return super().has_next() if self.more is None else self.more


class CappedPaginator(Paginator):
    """``Paginator`` whose count stops at ``cap`` (``capped`` then says « at least »)."""

    cap = COUNT_CAP

    def __init__(self, object_list, per_page, *args, counted=None, **kwargs):
        """``counted``: the same rows without what only the page shows (annotations,
        prefetches), to count them; the listed rows themselves by default."""
        super().__init__(object_list, per_page, *args, **kwargs)
        self.counted = object_list if counted is None else counted

    @cached_property
    def _counted(self) -> int:
        """The rows, up to ``cap + 1``: any ``cap + 1`` of them, so unordered — the
        database stops at the first ones any index gives, instead of walking the list's
        order past rows that do not match (a reference prefix matching a quarter of the
        dossiers, far down the date order: 650 ms ordered, 3 ms not, at 1 M)."""
        rows = self.counted
        count = getattr(rows, "count", None)
        if callable(count) and not inspect.isbuiltin(count) and method_has_no_args(count):
            if hasattr(rows, "order_by"):
                rows = rows.order_by()
            return rows[: self.cap + 1].count()
        return min(len(rows), self.cap + 1)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @cached_property
    def num_pages(self) -> int:
        """The pages known: past the cap, those of ``cap + 1`` rows (at least)."""
        if not self.capped:
            return super().num_pages
        return math.ceil((self.cap + 1) / self.per_page)

    def validate_number(self, number) -> int:
        if not self.capped:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number) -> Page:
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        page = self._get_page(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def _get_page(self, *args, **kwargs) -> Page:
        return CappedPage(*args, **kwargs)


# ---------------------------------------------------------------- keyset


def cursor_of(created_at: dt.datetime, pk: int) -> str:
    """The opaque cursor of a dossier in the list (its ``created_at`` and id)."""
    raw = f"{created_at.isoformat()}~{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> DomainError:
    return DomainError(
        "Paramètre « after » invalide.", errors={"after": ["Curseur invalide ou périmé."]}
    )


def reference_cursor(reference: str) -> str:
    """The cursor of a dossier in a list ordered by reference (its reference)."""
    return base64.urlsafe_b64encode(f"R~{reference}".encode()).decode().rstrip("=")


def read_cursor(value: str, order: str = "-created_at"):
    """The (``created_at``, id) of a cursor, or its reference with ``order="-reference"``;
    None for an empty one (the first page). A cursor of the other order is invalid."""
    if not value:
        return None
    if not value.isascii() or len(value) > 80:
        raise _invalid()
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid() from None
    if order == "-reference":
        kind, _, reference = raw.partition("~")
        if kind != "R" or not REFERENCE_RE.fullmatch(reference):
            raise _invalid()
        return reference
    try:
        when, _, pk = raw.partition("~")
        created_at = dt.datetime.fromisoformat(when)
    except ValueError:
        raise _invalid() from None
    if created_at.tzinfo is None or not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
        raise _invalid()
    return created_at, int(pk)


def after(queryset: QuerySet, cursor: tuple[dt.datetime, int] | None) -> QuerySet:
    """The rows after ``cursor`` in ``-created_at, -id`` order. ``created_at <= t`` is
    the index condition (the scan starts at the cursor); the ``OR`` only settles ties."""
    queryset = queryset.order_by("-created_at", "-id")
    if cursor is None:
        return queryset
    created_at, pk = cursor
    return queryset.filter(Q(created_at__lte=created_at)).filter(
        Q(created_at__lt=created_at) | Q(id__lt=pk)
    )


def after_reference(queryset: QuerySet, reference: str | None) -> QuerySet:
    """The rows of a list ordered by reference, newest first (its order kept: see
    ``reference_search``), after ``reference``: an index condition, the scan starts there."""
    return queryset if reference is None else queryset.filter(LessThan(reference_key(), reference))


def keyset_page(
    queryset: QuerySet, cursor, size: int, order: str = "-created_at"
) -> tuple[list, str | None]:
    """One page after ``cursor`` and the cursor of the next page (None at the end), in
    ``order`` (``-created_at``, or ``-reference`` for a reference-shaped search)."""
    by_reference = order == "-reference"
    rows = after_reference(queryset, cursor) if by_reference else after(queryset, cursor)
    rows = list(rows[: size + 1])
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    if by_reference:
        return rows[:size], reference_cursor(last.reference)
    return rows[:size], cursor_of(last.created_at, last.pk)
