"""The programming year of a funding request (issue 14, domain.md « Programming »): the
year it counts in for the maquette, the envelopes and the scenarios — the year of its
decision, else the year its decision is expected (its implicit-decision date, else its
dossier's receipt, else its creation).

Stored on the request (``FundingRequest.programming_year``, indexed with its scheme and
state) so that the maquette and the envelopes read one year's requests by index instead of
computing the year on every row of the territory. This module is the one rule; it is kept
by ``FundingRequest.save`` (every save: creation on the dossier's receipt, each
transition), by ``year_refresh`` where a transition sets a date outside ``save`` (the
engine's batch mode writes the changed columns with ``bulk_update``) and by
``year_after_implicit`` where the implicit-decision date is written with ``UPDATE``
(``workflows.legal_track``). The dossier's receipt date is set once, on its submission,
before its requests exist (``cases.lifecycle.case``).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone


def year_of(granted_on, implicit_decision_on, receipt_date, created_at) -> int | None:
    """The rule, for values in Python."""
    for day in (granted_on, implicit_decision_on, receipt_date):
        if day is not None:
            return day.year
    if created_at is None:
        return None
    if isinstance(created_at, dt.datetime) and timezone.is_aware(created_at):
        return timezone.localtime(created_at).year  # as SQL's EXTRACT in the current zone
    return created_at.year


def year_refresh(fr) -> None:
    """Set ``fr.programming_year`` from its dates (no query when its dossier is loaded, or
    when the year is already stored and only the dossier's receipt could decide it: that
    date does not change once the request exists)."""
    receipt = None
    if fr.granted_on is None and fr.implicit_decision_on is None:
        if "case" in fr._state.fields_cache:
            receipt = fr.case.receipt_date
        elif fr.pk is not None and fr.programming_year is not None:
            return
        elif fr.case_id is not None:
            from .models import Case

            receipt = Case.objects.filter(pk=fr.case_id).values_list("receipt_date", flat=True)
            receipt = receipt.first()
    fr.programming_year = year_of(fr.granted_on, fr.implicit_decision_on, receipt, fr.created_at)


def year_after_implicit(due: dt.date):
    """The stored year once the implicit-decision date becomes ``due`` (an SQL expression
    for an ``UPDATE``): the decision's year when decided, else ``due``'s."""
    return Coalesce(ExtractYear("granted_on"), Value(due.year))


def year_computed(prefix: str = ""):
    """The rule as an SQL expression over the dates (``prefix`` reaches the request): to
    fill the stored years and to check them."""
    return Coalesce(
        ExtractYear(f"{prefix}granted_on"),
        ExtractYear(f"{prefix}implicit_decision_on"),
        ExtractYear(f"{prefix}case__receipt_date"),
        ExtractYear(f"{prefix}created_at"),
    )


def years_fill(request_model, case_model, qs=None) -> int:
    """Store the year of every request (of ``qs``) from its dates, in one ``UPDATE`` (the
    data migration, and the bench's data set written with ``COPY``)."""
    receipt = case_model.objects.filter(pk=OuterRef("case_id")).values("receipt_date")[:1]
    qs = request_model.objects.all() if qs is None else qs
    return qs.update(
        programming_year=Coalesce(
            ExtractYear("granted_on"),
            ExtractYear("implicit_decision_on"),
            ExtractYear(Subquery(receipt)),
            ExtractYear("created_at"),
        )
    )


def stored(prefix: str = ""):
    """The stored year (an SQL expression; ``prefix`` reaches the request)."""
    return F(f"{prefix}programming_year")
