"""The reads of the treasury forecast (``cases.treasury``): each organisation's live
operations as plain snapshots — dossiers, expense totals, planned invoices, grants,
claims, the schemes' learned delays — and the cash it holds today, in a constant number
of queries whatever the number of organisations and dossiers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .treasury import (
    FORECAST_STATES,
    ZERO,
    ClaimSnap,
    GrantSnap,
    OperationSnap,
    Params,
    SchemeTerms,
    money,
)

#: Up to this many ids, a snapshot's reads name the dossiers (or grants) read before them
#: (an index scan each); beyond, they repeat its conditions as a sub-query (the bound of
#: the parameters of one statement: 32,766 in SQLite, 65,535 in PostgreSQL).
MAX_LISTED_IDS = 10_000
#: The dossier's columns a snapshot reads, in the order ``operations_snapshots`` unpacks.
CASE_COLUMNS = (
    "id",
    "reference",
    "state",
    "tax_basis",
    "works_start_date",
    "works_end_date",
    "planned_works_start",
    "planned_works_end",
    "organisation_id",
)


def _listed(ids: list[int]):
    """``ids`` for an ``__in`` lookup: on PostgreSQL one array parameter (``unnest``), not
    one placeholder per id — thousands of them cost more to build and parse than the
    index scans they serve —, sent as one literal (``engine.pg_arrays``)."""
    from django.db import connection
    from django.db.models.expressions import RawSQL

    from engine.pg_arrays import array_literal

    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (array_literal(ids),))
    return ids


def _snapshot_rows(by_pk: dict, today: dt.date, drafted: dict | None = None):
    # long: the six bounded reads of a snapshot, a few lines each, in the order they are joined
    """The rows the snapshots are built from: the live dossiers, their expense totals,
    planned invoices, live requests, claims, and each scheme's terms with its learned
    delays — a constant number of queries. ``drafted`` (request id → (dossier id, amount))
    adds the grants of a draft programme (``cases.scenarios``) as if decided today."""
    from django.db.models import Q, Sum

    from schemes.models import Scheme

    from .models import (
        LIVE_GRANTS,
        Case,
        ExpenseLine,
        FundingRequest,
        PaymentClaim,
        PlannedInvoice,
    )
    from .payments import delays_by_scheme

    drafted = drafted or {}
    drafted_cases = sorted({case_id for case_id, _amount in drafted.values()})
    live_q = Q(organisation_id__in=list(by_pk)) & (
        Q(state__in=FORECAST_STATES) | Q(pk__in=drafted_cases)
    )
    if drafted:
        via_case = {"case__in": Case.objects.filter(live_q).values("pk")}
    else:  # the joins of every forecast
        via_case = {"case__organisation_id__in": list(by_pk), "case__state__in": FORECAST_STATES}
    cases = list(
        Case.objects.filter(live_q)
        .order_by("id")
        .values_list(*CASE_COLUMNS)  # plain tuples: thousands of rows for a territory
    )
    ids = [case[0] for case in cases]
    if len(ids) <= MAX_LISTED_IDS:  # each read below an index scan of these dossiers
        via_case = {"case_id__in": _listed(ids)}
    costs = {
        case_id: (total or ZERO, eligible or ZERO)
        for case_id, total, eligible in ExpenseLine.objects.filter(**via_case)
        .values("case_id")
        .annotate(total=Sum("amount"), eligible=Sum("amount", filter=Q(eligible=True)))
        .order_by()
        .values_list("case_id", "total", "eligible")
    }
    invoices: dict[int, list] = {}
    for case_id, due_on, amount in (
        PlannedInvoice.objects.filter(**via_case)
        .order_by("due_on", "id")
        .values_list("case_id", "due_on", "amount")
    ):
        invoices.setdefault(case_id, []).append((due_on, amount))
    requests: dict[int, list] = {}
    granted = []  # the live grants' ids: their claims
    for pk, case_id, scheme_id, amount_granted, paid, committed_on, state in (
        FundingRequest.objects.filter(**via_case)
        .filter(Q(state__in=LIVE_GRANTS) | Q(pk__in=list(drafted)))
        .order_by("id")
        .values_list(
            "id", "case_id", "scheme_id", "amount_granted", "amount_paid", "committed_on", "state"
        )
    ):
        if pk in drafted:
            amount_granted = drafted[pk][1]
        if state in LIVE_GRANTS:
            granted.append(pk)
        requests.setdefault(case_id, []).append((pk, scheme_id, amount_granted, paid, committed_on))
    if len(granted) <= MAX_LISTED_IDS:
        of_grants = {"funding_request_id__in": _listed(granted)}
    else:
        of_grants = {f"funding_request__{k}": v for k, v in via_case.items()}
        of_grants["funding_request__state__in"] = LIVE_GRANTS
    claims: dict[int, list] = {}
    for pk, request_id, kind, amount, filed_on, state in (
        PaymentClaim.objects.filter(**of_grants)
        .exclude(state__in=("draft", "rejected", "withdrawn"))
        .order_by("id")
        .values_list("id", "funding_request_id", "kind", "amount", "filed_on", "state")
    ):
        claims.setdefault(request_id, []).append((pk, kind, amount, filed_on, state))
    # Every scheme (a handful), whichever the organisations use: the same statements for
    # one porteur or many, one dossier or hundreds.
    schemes = {s.pk: s for s in Scheme.objects.all()}
    delays = delays_by_scheme(schemes.values(), today=today)
    terms = {
        pk: SchemeTerms(
            code=scheme.code,
            label=getattr(scheme, "label", None) or scheme.code,
            p50=delays[pk][0],
            p80=delays[pk][1],
            advance_max_rate=scheme.advance_max_rate,
            installments_max_rate=scheme.installments_max_rate,
        )
        for pk, scheme in schemes.items()
    }
    return cases, costs, invoices, requests, claims, terms


def operations_snapshots(
    organisations, *, today: dt.date, p: Params, drafted: dict | None = None
) -> dict[int, list]:
    """The live operations of each organisation (id → its ``OperationSnap``s) with their
    grants, claims and learned delays, in a constant number of queries whatever the number
    of organisations and dossiers (a caller streams organisations by chunks). Plain rows,
    not model objects: the expense totals are summed by the database."""
    from .models import CLAIM_UNPAID, Organisation

    by_pk = {o.pk: o for o in organisations}
    cases, costs, invoices, requests, claims, terms = _snapshot_rows(by_pk, today, drafted)
    out: dict[int, list[OperationSnap]] = {pk: [] for pk in by_pk}
    for case_id, reference, state, tax_basis, start, end, planned_start, planned_end, org in cases:
        organisation = by_pk[org]
        pays_vat = organisation.kind != Organisation.Kind.COMPANY
        fctva = organisation.kind in Organisation.PUBLIC_KINDS
        total, eligible = costs.get(case_id, (ZERO, ZERO))
        ht = tax_basis == "HT"
        vat = (1 + p.vat_rate) if ht and pays_vat else Decimal(1)
        grants = []
        for pk, scheme_id, granted, paid, committed_on in requests.get(case_id, ()):
            mine = claims.get(pk, ())
            grants.append(
                GrantSnap(
                    id=pk,
                    scheme=terms[scheme_id],
                    granted=granted or ZERO,
                    paid=paid or ZERO,
                    claims=tuple(
                        ClaimSnap(c_id, kind, amount, filed_on or today)
                        for c_id, kind, amount, filed_on, c_state in mine
                        if c_state in CLAIM_UNPAID
                    ),
                    advance_claimed=any(c[1] == "advance" for c in mine),
                    committed_on=committed_on,
                )
            )
        out[org].append(
            OperationSnap(
                case_id=case_id,
                reference=reference or f"n° {case_id}",
                cost=money(total * vat),
                fctva_base=money(eligible * (1 + p.vat_rate)) if fctva and ht else ZERO,
                works_start=start or planned_start,
                works_end=end or planned_end,
                completed=state == "completed",
                invoices=tuple(invoices.get(case_id, ())),
                grants=tuple(grants),
            )
        )
    return out


def cash_today(organisations, *, today: dt.date) -> dict[int, Decimal | None]:
    """The cash each organisation holds today: the amount it declared, plus the payments
    recorded since the day it declared it (a payment moves money from the projected
    inflows to the cash: the balances do not change). None when it declared nothing."""
    from django.db.models import F, Q, Sum

    from .models import Payment

    declared = [o for o in organisations if o.cash_at_hand is not None]
    received: dict[int, Decimal] = {}
    dated = [o.pk for o in declared if o.cash_at_hand_on is not None]
    if dated:
        org = "claim__funding_request__case__organisation"
        rows = (
            Payment.objects.filter(**{f"{org}_id__in": dated}, paid_on__lte=today)
            .filter(Q(paid_on__gt=F(f"{org}__cash_at_hand_on")))
            .values(f"{org}_id")
            .annotate(total=Sum("amount"))
        )
        received = {row[f"{org}_id"]: row["total"] or ZERO for row in rows}
    return {
        o.pk: None if o.cash_at_hand is None else o.cash_at_hand + received.get(o.pk, ZERO)
        for o in organisations
    }
