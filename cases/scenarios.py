"""What-if scenarios of the year's programme (issue 14, point 3; domain.md « Programming »):
an agent marks requests « à financer / à reporter / à refuser », changes amounts, and sees
what the programme would do — the envelopes of the year, the 80 % / 20 % rules of each
dossier's plan, each porteur's treasury — before anything is decided. A scenario never
changes a dossier: ``cases.services.scenarios.scenario_apply`` does, through the bulk
transition service.

Every figure is computed by the rule it drafts, never rewritten: the envelopes' by
``cases.envelopes`` (``request_contribution`` is its rule for one request), the plans' by
``cases.rules.check_plan``, the treasury's by ``cases.treasury`` (the figures of two
``treasury_forecasts``, from one read: ``_forecast_pairs``).

Who: the territory's agents, director and administrators draft; a funder's instructor
reads the scenarios holding one of its funder's requests, sees only those, and applies
them (it alone decides its grants).
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.core.cache import cache
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from engine.memory import gc_paused
from engine.models import OutboxEvent
from schemes.models import Envelope, Scheme

from . import maquette, rules, selectors, treasury, treasury_reads
from .envelopes import ZERO, EnvelopeFigures, envelope_figures, request_contribution
from .models import (
    REQUEST_UNDECIDED,
    Case,
    ExpenseLine,
    FundingRequest,
    ItemOutcome,
    ResourceLine,
    Scenario,
    ScenarioChoice,
    ScenarioItem,
    User,
)
from .treasury import forecast_risk

R = User.Role
DRAFTERS = (R.AGENT, R.DIRECTOR, R.ADMIN)
#: The rules of the plan a draft programme may break: 80 % of public aid, 20 % own share.
PLAN_RULES = ("public_aid_ceiling", "own_share", "national_match")
#: How long a porteur's treasury exposure to a draft is kept (seconds) when nothing it
#: depends on is seen to change (``_exposure_key``): a plan's expenses or a payment
#: recorded without a transition show at the latest then.
EXPOSURE_TTL = 600


def may_draft(user) -> bool:
    return user.is_superuser or user.effective_role in DRAFTERS


def scenario_list(*, user) -> QuerySet[Scenario]:
    qs = Scenario.objects.select_related("territory", "created_by")
    if may_draft(user):
        return selectors.in_territory(qs, user)
    if user.effective_role == R.FUNDER_INSTRUCTOR and user.funder_id:
        mine = ScenarioItem.objects.filter(funding_request__scheme__funder_id=user.funder_id)
        return qs.filter(pk__in=mine.values("scenario_id"))
    return qs.none()


def items_of(scenario: Scenario, *, user) -> QuerySet[ScenarioItem]:
    """The items the user may see, with their requests, dossiers and porteurs, and their
    scheme's code (``scheme_code``: a scheme model per item, forty columns each, was a
    fifth of a 500-item page) — what the figures and the page read of them, no more."""
    qs = (
        ScenarioItem.objects.filter(scenario=scenario)
        .select_related(
            "funding_request__case__organisation",
            "funding_request__case__own_share_case",
        )
        .annotate(scheme_code=F("funding_request__scheme__code"))
    )
    if not may_draft(user):
        qs = qs.filter(funding_request__scheme__funder_id=user.funder_id)
    return qs.order_by(
        "funding_request__case__epci__name",
        "funding_request__case__organisation__name",
        "funding_request__case_id",
        "funding_request_id",
    )


def candidates(scenario: Scenario, *, user, funder: str = "") -> QuerySet[FundingRequest]:
    """The requests a scenario may decide: the undecided requests of its territory whose
    programming year is its year (those of the maquette)."""
    if not may_draft(user):
        return FundingRequest.objects.none()
    qs = maquette.requests(user=user, filters=maquette.Filters(year=scenario.year, funder=funder))
    return (
        qs.filter(state__in=REQUEST_UNDECIDED, case_territory_id=scenario.territory_id)
        .select_related("scheme__funder", "case__organisation", "case__epci", "action_sheet")
        .order_by("case__epci__name", "case__organisation__name", "case_id", "pk")
    )


def stale_reason(item: ScenarioItem, fr: FundingRequest) -> str | None:
    """Why an item no longer applies: its request changed since the scenario saw it."""
    if fr.state != item.seen_state:
        before = maquette.STATE_LABELS.get(item.seen_state, item.seen_state)
        now = maquette.STATE_LABELS.get(fr.state, fr.state)
        return (
            f"La demande a changé depuis le scénario : elle est passée de « {before} » à « {now} »."
        )
    if fr.amount_requested != item.seen_amount:
        return (
            f"Le montant demandé a changé depuis le scénario : {rules.euros(item.seen_amount)} "
            f"alors, {rules.euros(fr.amount_requested)} aujourd'hui."
        )
    return None


def stale_reasons(items) -> dict[int, str | None]:
    """Each item not applied yet → why it no longer applies (None: it still does)."""
    return {i.pk: stale_reason(i, i.funding_request) for i in items if not i.outcome}


def pending(items, stale: dict | None = None) -> list[ScenarioItem]:
    """The items still drafted: not applied yet, and not stale (``stale``: the items'
    ``stale_reasons`` when already computed)."""
    stale = stale_reasons(items) if stale is None else stale
    return [i for i in items if not i.outcome and stale.get(i.pk) is None]


def after_contribution(item: ScenarioItem) -> tuple[Decimal, Decimal]:
    """``(requested, programmed)`` of the item's request once the scenario is applied:
    funded, programmed at its amount; refused or postponed to a later year, out of the
    year's figures."""
    if item.choice == ScenarioChoice.FUND:
        return ZERO, item.amount if item.amount is not None else item.seen_amount
    return ZERO, ZERO


# ---------------------------------------------------------------- envelopes


@dataclass
class EnvelopeDraft:
    figures: EnvelopeFigures
    requested: Decimal
    programmed: Decimal

    @property
    def envelope(self):
        return self.figures.envelope

    @property
    def amount(self) -> Decimal:
        return self.figures.amount

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.programmed

    @property
    def delta(self) -> Decimal:
        return self.programmed - self.figures.programmed

    @property
    def over(self) -> bool:
        return self.remaining < 0


def envelopes(
    scenario: Scenario, items: list[ScenarioItem], *, user, live: list | None = None
) -> list[EnvelopeDraft]:
    """The year's envelopes as they are, and as the scenario would leave them (``live``:
    the items' ``pending`` when already computed, as for the other figures below)."""
    qs = Envelope.objects.filter(territory_id=scenario.territory_id, year=scenario.year)
    if not may_draft(user):
        qs = qs.filter(scheme__funder_id=user.funder_id)
    figures = envelope_figures(
        qs.select_related("scheme__funder", "action_sheet").order_by(
            "scheme__funder__name", "scheme__code", "action_sheet__code"
        )
    )
    # (scheme, action sheet) → what the scenario changes
    deltas: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for item in pending(items) if live is None else live:
        fr = item.funding_request
        req0, prog0 = request_contribution(fr.state, fr.amount_requested, fr.amount_granted)
        req1, prog1 = after_contribution(item)
        delta = deltas[(fr.scheme_id, fr.action_sheet_id)]
        delta[0] += req1 - req0
        delta[1] += prog1 - prog0
    out = []
    for f in figures:
        e = f.envelope
        requested, programmed = f.requested, f.programmed
        for (scheme_id, sheet_id), (d_req, d_prog) in deltas.items():
            if scheme_id == e.scheme_id and e.action_sheet_id in (None, sheet_id):
                requested += d_req
                programmed += d_prog
        out.append(EnvelopeDraft(f, requested, programmed))
    return out


# ---------------------------------------------------------------- plans (80 % / 20 %)


@dataclass
class PlanCheck:
    case: Case
    own_added: Decimal  # what the owner must add to cover what the scenario takes away
    after: list[rules.Violation] = field(default_factory=list)
    #: The plan as it is: (expenses, resources, the rule's keywords), checked on demand.
    plan: tuple = ((), (), {})

    @property
    def broken(self) -> bool:
        return bool(self.after)

    @functools.cached_property
    def before(self) -> list[rules.Violation]:
        """The plan's rules without the scenario (a page shows what it breaks: ``after``;
        this is computed only when read)."""
        expenses, resources, kw = self.plan
        return [
            v
            for v in rules.check_plan(expenses, resources, **kw).violations
            if v.rule in PLAN_RULES
        ]


def _drafted_resources(resources: list[rules.Resource], mine: list[ScenarioItem]):
    """The plan's resources with the scenario's amounts; what a request loses is the
    owner's to cover (added to its own funds)."""
    by_scheme = {item.funding_request.scheme_id: item for item in mine}
    out, added = [], ZERO
    for res in resources:
        item = by_scheme.get(getattr(res.scheme, "pk", None)) if res.kind == "scheme" else None
        if item is None:
            out.append(res)
            continue
        _req, kept = after_contribution(item)
        added += res.amount - kept
        if kept:
            out.append(rules.Resource(res.kind, kept, res.scheme, res.label))
    if added:
        out.append(rules.Resource("self", added, None, "Autofinancement complémentaire"))
    return out, added


def _plan_lines(case_ids: list[int]) -> dict[int, tuple[list, list]]:
    """The plans of ``case_ids`` as rule values, read as plain rows (two queries, and one
    for their schemes, each model instance once): a prefetch builds a queryset per dossier
    and a model per line, most of the time of a scenario of 500 changes."""
    lines: dict[int, tuple[list, list]] = {pk: ([], []) for pk in case_ids}
    order = ("case_id", "position", "id")  # the lines' order (their ``Meta.ordering``)
    for case_id, label, amount, tax, eligible in (
        ExpenseLine.objects.filter(case_id__in=case_ids)
        .order_by(*order)
        .values_list("case_id", "label", "amount", "tax", "eligible")
    ):
        lines[case_id][0].append(rules.Expense(label, amount, tax, eligible))
    rows = list(
        ResourceLine.objects.filter(case_id__in=case_ids)
        .order_by(*order)
        .values_list("case_id", "kind", "amount", "scheme_id", "label")
    )
    schemes = Scheme.objects.select_related("funder").in_bulk({r[3] for r in rows} - {None})
    for case_id, kind, amount, scheme_id, label in rows:
        resource = rules.Resource(kind, amount, schemes.get(scheme_id), label)
        lines[case_id][1].append(resource)
    return lines


def plan_checks(items: list[ScenarioItem], *, live: list | None = None) -> list[PlanCheck]:
    """Each dossier the scenario touches, its plan's 80 % / 20 % rules with the scenario
    (and without, when read: ``PlanCheck.before``) — three queries whatever the number of
    dossiers; the dossiers are the items' own, read with them by ``items_of``."""
    by_case: dict[int, list[ScenarioItem]] = defaultdict(list)
    cases = {}
    for item in pending(items) if live is None else live:
        by_case[item.funding_request.case_id].append(item)
        cases[item.funding_request.case_id] = item.funding_request.case
    plans = _plan_lines(list(by_case))
    out = []
    by_reference = lambda c: (c.reference is None, c.reference or "", c.pk)  # noqa: E731
    for case in sorted(cases.values(), key=by_reference):
        expenses, resources = plans[case.pk]
        kw = {
            "owner_kind": case.organisation.kind,
            "legal_case": case.own_share_case if case.own_share_case_id else None,
            "tax_basis": case.tax_basis,
        }
        drafted, added = _drafted_resources(resources, by_case[case.pk])
        after = rules.check_plan(expenses, drafted, **kw).violations
        out.append(
            PlanCheck(
                case,
                added,
                [v for v in after if v.rule in PLAN_RULES],
                (expenses, resources, kw),
            )
        )
    return out


# ---------------------------------------------------------------- treasury


@dataclass
class Exposure:
    organisation: object
    trough_before: Decimal | None
    trough_after: Decimal | None
    loan_after: Decimal | None
    risk_after: Decimal | None

    @property
    def worse(self) -> bool:
        return (self.trough_after or ZERO) < (self.trough_before or ZERO)


def _forecast_pairs(orgs, drafted: dict, live_before: set, *, months: int, today) -> dict:
    """Each organisation's forecast without and with the drafted grants (id → the pair):
    the figures of two ``treasury_forecasts`` (without, then with ``drafted``) from one
    read of the snapshot with them; an operation the draft does not touch is projected
    and summed by month once for both, a drafted one without its drafted grants for
    « before » (and left out when its dossier was not live: ``live_before``)."""
    p = treasury.params()
    snapshots = treasury_reads.operations_snapshots(orgs, today=today, p=p, drafted=drafted)
    cash = treasury_reads.cash_today(orgs, today=today)
    horizon = max(1, min(treasury.MAX_MONTHS, months))
    out = {}
    for org in orgs:
        flows = {"both": ([], []), "before": ([], []), "after": ([], [])}
        for op in snapshots[org.pk]:
            if not any(g.id in drafted for g in op.grants):
                variants = {"both": op}  # the same flows on both sides
            else:
                variants = {"after": op}
                if op.case_id in live_before:
                    grants = tuple(g for g in op.grants if g.id not in drafted)
                    variants["before"] = replace(op, grants=grants)
            for side, variant in variants.items():
                outflows, inflows = treasury.project_operation(
                    variant, today=today, regime=org.fctva_regime, p=p
                )
                flows[side][0].extend(outflows)
                flows[side][1].extend(inflows)
        shared = treasury.flows_by_month(today, horizon, *flows["both"])
        out[org.pk] = tuple(
            treasury.forecast_of_months(
                cash=cash[org.pk],
                today=today,
                totals=treasury.add_totals(
                    shared, treasury.flows_by_month(today, horizon, *flows[side])
                ),
                rate=p.bridging_rate,
                loan_round=p.loan_round,
            )
            for side in ("before", "after")
        )
    return out


def _exposure_key(org, rows: dict, months: int, today, version) -> str:
    """What a porteur's exposure depends on: its drafted grants, its declared cash and
    limit, the day, and the newest event recorded (any transition renews the key)."""
    cash = (org.cash_at_hand, org.cash_at_hand_on, org.cash_limit)
    raw = repr((org.pk, sorted(rows.items()), cash, months, today, version))
    return "scenario-exposure:" + hashlib.sha256(raw.encode()).hexdigest()


def exposures(
    items: list[ScenarioItem],
    *,
    months: int = 24,
    live: list | None = None,
    at_most: int | None = None,
) -> list[Exposure] | None:
    """Each porteur the scenario funds, its treasury's p80 trough today and with the
    scenario's grants (as if decided today). Computed only for the porteurs whose drafted
    grants (or cash, or any dossier's state) changed since the last computation — the
    others are kept in the cache ``EXPOSURE_TTL`` seconds at most —, in one read of the
    snapshot (``_forecast_pairs``). ``at_most``: compute no more than this many porteurs —
    None when more are missing (a page shows them by a request of their own)."""
    live = pending(items) if live is None else live
    funded = [i for i in live if i.choice == ScenarioChoice.FUND]
    organisations, rows = {}, defaultdict(dict)
    for i in funded:
        fr = i.funding_request
        organisations[fr.case.organisation_id] = fr.case.organisation
        rows[fr.case.organisation_id][fr.pk] = (fr.case_id, after_contribution(i)[1])
    if not organisations:
        return []
    today = timezone.localdate()
    version = OutboxEvent.objects.aggregate(newest=Max("pk"))["newest"]
    keys = {
        pk: _exposure_key(org, rows[pk], months, today, version)
        for pk, org in organisations.items()
    }
    figures = cache.get_many(list(keys.values()))
    missing = [org for pk, org in organisations.items() if keys[pk] not in figures]
    if at_most is not None and len(missing) > at_most:
        return None
    if missing:
        drafted = {fr_id: row for org in missing for fr_id, row in rows[org.pk].items()}
        live_before = {
            i.funding_request.case_id
            for i in funded
            if i.funding_request.case.state in treasury.FORECAST_STATES
        }
        with gc_paused():  # bounded: the porteurs of one scenario
            pairs = _forecast_pairs(missing, drafted, live_before, months=months, today=today)
        fresh = {}
        for org in missing:
            b, a = pairs[org.pk]
            fresh[keys[org.pk]] = (
                b.trough_p80.balance if b.trough_p80 else None,
                a.trough_p80.balance if a.trough_p80 else None,
                a.loan.amount if a.loan else None,
                forecast_risk(a, org.cash_limit),
            )
        cache.set_many(fresh, EXPOSURE_TTL)
        figures |= fresh
    return [
        Exposure(org, *figures[keys[org.pk]])
        for org in sorted(organisations.values(), key=lambda o: (o.name, o.pk))
    ]


# ---------------------------------------------------------------- summaries


@dataclass
class Summary:
    scenario: Scenario
    counts: dict[str, int]
    amount_funded: Decimal
    stale: int
    envelopes: list[EnvelopeDraft]
    plans_broken: int
    porteurs_at_risk: int | None  # None: the treasury not computed (``at_most``)

    @property
    def envelopes_over(self) -> int:
        return sum(1 for e in self.envelopes if e.over)


def summary(
    scenario: Scenario, *, user, with_treasury: bool = True, at_most: int | None = None
) -> Summary:
    """One scenario's figures, for the comparison side by side (``at_most``: as for
    ``exposures`` — more porteurs to compute and the count of those at risk is None)."""
    items = list(items_of(scenario, user=user))
    reasons = stale_reasons(items)
    live = pending(items, reasons)
    counts = {c.value: sum(1 for i in live if i.choice == c) for c in ScenarioChoice}
    funded = sum((after_contribution(i)[1] for i in live), ZERO)
    stale = sum(1 for reason in reasons.values() if reason is not None)
    risk = 0
    if with_treasury:
        shown = exposures(items, live=live, at_most=at_most)
        risk = None if shown is None else sum(1 for e in shown if e.risk_after)
    return Summary(
        scenario,
        counts,
        funded,
        stale,
        envelopes(scenario, items, user=user, live=live),
        sum(1 for c in plan_checks(items, live=live) if c.broken),
        risk,
    )


def outcome_label(item: ScenarioItem) -> str:
    return dict(ItemOutcome.choices).get(item.outcome, "")
