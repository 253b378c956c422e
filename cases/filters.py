"""The filters of the dossier list, defined once (``django-filter``) for the API
(``GET /api/v1/cases/``) and the agents' page (``/agent/``): the same parameters mean the
same thing in both — ``q`` is the title, the reference or the porteur's name."""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django import forms
from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, QuerySet, Subquery
from django.utils import timezone

from engine.models import Deadline
from schemes.models import EPCI

from .models import CaseState, FundingRequest, ResourceLine
from .search import case_text_filter, reference_prefixes, reference_search

# up to this many overdue deadlines, the overdue filter reads their dossiers by id
OVERDUE_BY_ID = 5_000


def overdue_deadlines(today: dt.date | None = None, *, outer: bool = True) -> QuerySet[Deadline]:
    """Open deadlines already past: of a dossier (``OuterRef("pk")``), or of any with
    ``outer=False``."""
    deadlines = Deadline.objects.filter(
        state=Deadline.State.OPEN, due_on__lt=today or timezone.localdate()
    )
    return deadlines.filter(aggregate_id=OuterRef("pk")) if outer else deadlines


def _scheme_id(code: str) -> Subquery:
    """The id of a scheme by its code: an InitPlan, read once per statement."""
    model = FundingRequest._meta.get_field("scheme").related_model
    return Subquery(model.objects.filter(code=code).values("pk")[:1])


def _scheme_choices():
    schemes = FundingRequest._meta.get_field("scheme").related_model.objects.order_by("code")
    return [(s.code, f"{s.code} — {s.name}") for s in schemes]


class CaseFilter(df.FilterSet):
    q = df.CharFilter(label="Titre, référence ou porteur", max_length=100, method="filter_text")
    state = df.ChoiceFilter(label="État", choices=CaseState.choices, empty_label="Tous les états")
    scheme = df.ChoiceFilter(
        label="Dispositif",
        choices=_scheme_choices,
        method="filter_scheme",
        empty_label="Tous les dispositifs",
    )
    epci = df.ModelChoiceFilter(
        label="EPCI",
        queryset=EPCI.objects.all(),
        to_field_name="siren",
        empty_label="Tous les EPCI",
    )
    theme = df.CharFilter(label="Thème", max_length=120, widget=forms.Select)
    overdue = df.BooleanFilter(
        label="Seulement les dossiers avec une échéance dépassée",
        widget=forms.CheckboxInput,
        method="filter_overdue",
    )

    def filter_text(self, qs, name, value):
        # a reference or its beginning: the same rows, newest reference first (an index)
        if prefixes := reference_prefixes(value):
            return reference_search(qs, value, prefixes)
        return qs.filter(case_text_filter(value)) if value else qs

    def filter_scheme(self, qs, name, value):
        # One EXISTS over a UNION ALL of the plan's lines and the requests, each probed by
        # its (case, scheme) index for the dossiers the list walks newest first. Not joins
        # + DISTINCT (the rows multiplied, 1.4 s on 100,000 dossiers), nor two EXISTS
        # joined by OR: PostgreSQL hashed every line and request of the scheme first, on
        # every page (3.5 s on 1 M dossiers, issue 16).
        if not value:
            return qs
        scheme = _scheme_id(value)
        lines = ResourceLine.objects.filter(case=OuterRef("pk"), scheme_id=scheme)
        requests = FundingRequest.objects.filter(case=OuterRef("pk"), scheme_id=scheme)
        return qs.filter(Exists(lines.values("pk").union(requests.values("pk"), all=True)))

    def filter_overdue(self, qs, name, value):
        if not value:
            return qs
        ids = overdue_deadlines(outer=False).values("aggregate_id")
        if connection.vendor != "postgresql":
            return qs.filter(pk__in=ids)
        # Few overdue deadlines (read by deadline_open_due_idx, one statement): their
        # dossiers by id, ``id = ANY(ARRAY(…))`` (an InitPlan read once). An EXISTS per
        # dossier walked the whole territory when none was overdue (2.3 s at 300,000
        # dossiers; ``IN (…)`` became the same semi-join, the planner misjudging how few
        # deadlines are both open and past). Many: the EXISTS walk finds them early, where
        # fetching 33,000 dossiers by id to sort them took 280 ms.
        if ids[: OVERDUE_BY_ID + 1].count() > OVERDUE_BY_ID:
            return qs.filter(Exists(overdue_deadlines()))
        from django.contrib.postgres.expressions import ArraySubquery

        in_array = Func(
            F("pk"),
            ArraySubquery(ids),
            template="(%(expressions)s))",
            arg_joiner=" = ANY(",
            output_field=BooleanField(),
        )
        return qs.filter(in_array)


def case_filter_errors(filterset: CaseFilter) -> dict[str, list[str]]:
    """The French messages of invalid filter values, by parameter."""
    return {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
