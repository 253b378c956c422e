"""LEADER programme health (issue 14, domain.md « Programming »): per action sheet of a
territory, its target, what is programmed, committed and paid, the programming and payment
rates, and the money at risk of being lost before the programme's end.

Definitions:

- **target**: the sheet's amount in the GAL's maquette (``ActionSheet.target_amount``),
  else the sum of its annual envelopes;
- **programmed / committed / paid**: the definitions of ``cases.envelopes`` (one
  definition: selected or granted requests, committed ones, the payments recorded), summed
  over the whole programme (every year);
- **programming rate** = programmed / target, **payment rate** = paid / target;
- **money at risk** is the sum of two parts:

  1. *late*: what a programmed request still has to be paid (its programmed amount less
     what was paid, ``amount_paid``) when its last payment is projected after the sheet's
     scheme's ``programme_end`` (31/12/2029 for FEADER 2023-2027). The last payment is the
     balance: claimed on the date of the balance claim already filed and unpaid, else
     ``GUICHET_TREASURY_BALANCE_LAG_DAYS`` after the end of works (actual, else planned,
     else the last month of ``GUICHET_TREASURY_WORKS_MONTHS`` months of works from their
     start or today — ``cases.treasury.balance_claim_on``, the treasury forecast's rule),
     and paid after the learned median delay of the sheet's scheme (whatever the request's
     own scheme; ``cases.payments.delays_by_scheme``, the projection of the
     ``programme_end`` alert), never before today. Requests already paid (state ``paid``)
     are not at risk.
  2. *unprogrammed*: the part of the target not programmed yet, once the last programming
     date is near. The last programming date is ``GUICHET_PROGRAMMING_LEAD_MONTHS`` (24)
     months before ``programme_end`` — the last committee able to programme a project that
     can still be paid in time (31/12/2027 for 2023-2027) —; the remainder counts at risk
     once fewer than ``GUICHET_PROGRAMMING_WARNING_MONTHS`` (12) months remain before it,
     and of course after it. Earlier, it is only « to programme ».

A constant number of queries whatever the number of sheets and dossiers: the sheets, their
envelopes' sums, one grouped query of the requests, one of the payments, one row per
programmed and unpaid request for the projection (with what it was paid), one of the filed balance claims, and one
small read per scheme for its learned delays.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

from schemes.models import ActionSheet, Envelope

from .envelopes import ZERO, _sum, committed_amount, programmed_amount
from .models import (
    CLAIM_UNPAID,
    LIVE_GRANTS,
    FundingRequest,
    Payment,
    PaymentClaim,
    RequestState,
)
from .payments import delays_by_scheme, project_payment
from .rules import rate_of
from .treasury import balance_claim_on, params, works_end_of

#: Programmed requests whose money may still come too late (``paid`` is over).
UNPAID_PROGRAMMED = [RequestState.SELECTED, *LIVE_GRANTS]


def lead_months() -> int:
    return int(getattr(settings, "GUICHET_PROGRAMMING_LEAD_MONTHS", 24))


def warning_months() -> int:
    return int(getattr(settings, "GUICHET_PROGRAMMING_WARNING_MONTHS", 12))


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_programming_date(programme_end: dt.date | None) -> dt.date | None:
    return None if programme_end is None else months_before(programme_end, lead_months())


@dataclass(frozen=True)
class LateRequest:
    """A programmed request whose last payment is projected after the programme's end."""

    request_id: int
    reference: str
    unpaid: Decimal
    projected_on: dt.date


@dataclass(frozen=True)
class SheetHealth:
    sheet: ActionSheet
    target: Decimal
    target_from_envelopes: bool
    programmed: Decimal
    committed: Decimal
    paid: Decimal
    programme_end: dt.date | None
    last_programming: dt.date | None
    unprogrammed_at_risk: Decimal
    late: tuple[LateRequest, ...] = field(default=())

    @property
    def late_amount(self) -> Decimal:
        return sum((r.unpaid for r in self.late), ZERO)

    @property
    def at_risk(self) -> Decimal:
        return self.late_amount + self.unprogrammed_at_risk

    @property
    def to_programme(self) -> Decimal:
        return max(self.target - self.programmed, ZERO)

    def _rate(self, value: Decimal) -> Decimal | None:
        return rate_of(value, self.target) if self.target > 0 else None

    @property
    def programming_rate(self) -> Decimal | None:
        return self._rate(self.programmed)

    @property
    def payment_rate(self) -> Decimal | None:
        return self._rate(self.paid)

    @property
    def at_risk_rate(self) -> Decimal | None:
        return self._rate(self.at_risk)


def _targets(sheets) -> dict[int, tuple[Decimal, bool]]:
    """Sheet id → (target, taken from the envelopes)."""
    sums = dict(
        Envelope.objects.filter(action_sheet__in=[s.pk for s in sheets])
        .values("action_sheet_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("action_sheet_id", "total")
    )
    return {
        s.pk: (s.target_amount, False)
        if s.target_amount is not None
        else (sums.get(s.pk) or ZERO, True)
        for s in sheets
    }


def _figures(sheet_ids) -> dict[int, dict[str, Decimal]]:
    """Sheet id → programmed, committed, paid over the whole programme (two queries)."""
    out: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in (
        FundingRequest.objects.filter(action_sheet_id__in=sheet_ids)
        .values("action_sheet_id")
        .annotate(programmed=_sum(programmed_amount()), committed=_sum(committed_amount()))
        .order_by()
    ):
        out[row["action_sheet_id"]]["programmed"] = row["programmed"]
        out[row["action_sheet_id"]]["committed"] = row["committed"]
    fr = "claim__funding_request__"
    for row in (
        Payment.objects.filter(**{f"{fr}action_sheet_id__in": sheet_ids})
        .values(f"{fr}action_sheet_id")
        .annotate(paid=_sum("amount"))
        .order_by()
    ):
        out[row[f"{fr}action_sheet_id"]]["paid"] = row["paid"]
    return out


def _late_requests(sheets, today: dt.date) -> dict[int, list[LateRequest]]:
    """Sheet id → its programmed requests whose balance is projected after the end."""
    ends = {s.pk: s.scheme.programme_end for s in sheets if s.scheme.programme_end}
    if not ends:
        return {}
    rows = list(
        FundingRequest.objects.filter(action_sheet_id__in=list(ends), state__in=UNPAID_PROGRAMMED)
        .annotate(programmed=programmed_amount())
        .values(
            "id",
            "action_sheet_id",
            "programmed",
            "amount_paid",
            "case__reference",
            "case_id",
            "case__works_start_date",
            "case__works_end_date",
            "case__planned_works_start",
            "case__planned_works_end",
        )
        .order_by("id")
    )
    balance_filed = dict(
        PaymentClaim.objects.filter(
            funding_request_id__in=[r["id"] for r in rows], kind="balance", state__in=CLAIM_UNPAID
        )
        .values("funding_request_id")
        .annotate(on=Max("filed_on"))
        .order_by()
        .values_list("funding_request_id", "on")
    )
    # The sheet's scheme decides the delay (a request of another scheme may sit on a sheet).
    sheet_scheme = {s.pk: s.scheme_id for s in sheets}
    delays = delays_by_scheme({s.scheme_id: s.scheme for s in sheets}.values(), today=today)
    p = params()
    out: dict[int, list[LateRequest]] = defaultdict(list)
    for row in rows:
        unpaid = row["programmed"] - (row["amount_paid"] or ZERO)
        if unpaid <= 0:
            continue
        works_end = works_end_of(
            row["case__works_start_date"] or row["case__planned_works_start"],
            row["case__works_end_date"] or row["case__planned_works_end"],
            today,
            p,
        )
        claim_on = balance_filed.get(row["id"]) or balance_claim_on(works_end, today, p)
        delay = delays[sheet_scheme[row["action_sheet_id"]]][0]
        projected = project_payment(claim_on, today, delay).projected_on
        if projected > ends[row["action_sheet_id"]]:
            reference = row["case__reference"] or f"n° {row['case_id']}"
            out[row["action_sheet_id"]].append(LateRequest(row["id"], reference, unpaid, projected))
    return out


def _unprogrammed_at_risk(remainder: Decimal, last: dt.date | None, today: dt.date) -> Decimal:
    if last is None or remainder <= 0:
        return ZERO
    return remainder if today > months_before(last, warning_months()) else ZERO


def programme_health(territory, *, today: dt.date | None = None) -> list[SheetHealth]:
    """The health of each active action sheet of the territory (by scheme, then code)."""
    today = today or timezone.localdate()
    territory_id = getattr(territory, "pk", territory)
    sheets = list(
        ActionSheet.objects.filter(territory_id=territory_id, active=True)
        .select_related("scheme")
        .order_by("scheme__code", "code", "id")
    )
    if not sheets:
        return []
    targets = _targets(sheets)
    figures = _figures([s.pk for s in sheets])
    late = _late_requests(sheets, today)
    out = []
    for sheet in sheets:
        target, from_envelopes = targets[sheet.pk]
        f = figures.get(sheet.pk, {})
        programmed = f.get("programmed", ZERO)
        end = sheet.scheme.programme_end
        last = last_programming_date(end)
        out.append(
            SheetHealth(
                sheet=sheet,
                target=target,
                target_from_envelopes=from_envelopes,
                programmed=programmed,
                committed=f.get("committed", ZERO),
                paid=f.get("paid", ZERO),
                programme_end=end,
                last_programming=last,
                unprogrammed_at_risk=_unprogrammed_at_risk(target - programmed, last, today),
                late=tuple(late.get(sheet.pk, ())),
            )
        )
    return out
