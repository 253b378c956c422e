"""Financing-plan rules of domain.md, as pure functions over plain values.

Each violation names the line and the rule, in French. Scheme parameters come from the
``Scheme`` rows (or any object with the same attributes): never constants here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal("1")
#: Rates are compared at 0.01 % after rounding half-up (revised rule 9).
RATE_STEP = Decimal("0.0001")
OWN_SHARE_MIN = Decimal("0.20")  # CGCT L1111-10 III (the law, not a scheme parameter)
#: The project owners bound by CGCT L1111-10 III (``Organisation.Kind`` values): communes,
#: their groupings (EPCI), départements and régions — not every public body (rule 8).
OWN_SHARE_KINDS = frozenset({"commune", "epci", "departement", "region"})
#: Owners whose own funds are public money (they count as FEADER's national match).
PUBLIC_KINDS = OWN_SHARE_KINDS | {"public_body"}
TAX_BASES = ("HT", "TTC")
NO_EXPENSE = "Le plan doit comporter au moins une dépense éligible."
NO_SCHEME = "Sollicitez au moins un dispositif dans le plan de financement."


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def rate_of(amount, base) -> Decimal:
    """``amount / base`` rounded half-up to 0.01 % (revised rule 9): the rate compared with
    a bound and the one shown. 76 929 € on 384 646 € is 20,00 %."""
    return (Decimal(amount) / Decimal(base)).quantize(RATE_STEP, rounding=ROUND_HALF_UP)


def euros(value: Decimal) -> str:
    """French formatting: 12 500,00 €."""
    q = money(value)
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups)},{frac} €"


def percent(rate: Decimal) -> str:
    value = (Decimal(rate) * 100).quantize(Decimal("0.01")).normalize()
    return f"{value:f}".replace(".", ",") + " %"


@dataclass(frozen=True)
class Expense:
    label: str
    amount: Decimal
    tax: str = "HT"
    eligible: bool = True


@dataclass(frozen=True)
class Resource:
    kind: str  # scheme | self | other_public | other
    amount: Decimal
    scheme: Any = None  # a Scheme (or an object with its attributes) when kind == scheme
    label: str = ""


@dataclass
class Violation:
    rule: str
    line: str
    message: str


@dataclass(frozen=True)
class Ceiling:
    """The public-aid ceiling that binds a plan: its rate of the eligible cost and why."""

    rate: Decimal
    source: str


@dataclass
class PlanSummary:
    total_eligible: Decimal = ZERO
    total_resources: Decimal = ZERO
    public_aid: Decimal = ZERO
    own_funds: Decimal = ZERO
    tax_basis: str = "HT"
    own_share_min: Decimal | None = None
    ceiling: Ceiling | None = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def public_aid_rate(self) -> Decimal:
        if not self.total_eligible:
            return Decimal("0.0000")
        return rate_of(self.public_aid, self.total_eligible)

    @property
    def valid(self) -> bool:
        return not self.violations


def scheme_label(scheme) -> str:
    """What people read for a scheme (``Scheme.label``: its short name, else its code)."""
    return getattr(scheme, "label", "") or scheme.code


def _resource_name(index: int, res: Resource) -> str:
    if res.kind == "scheme" and res.scheme is not None:
        return f"Ressource n° {index} ({scheme_label(res.scheme)})"
    names = {
        "scheme": "dispositif",
        "self": "autofinancement",
        "other_public": "autre financement public",
        "other": "autre financement",
    }
    label = f" « {res.label} »" if res.label else ""
    return f"Ressource n° {index} ({names.get(res.kind, res.kind)}{label})"


def _line_violations(expenses: Sequence[Expense], resources: Sequence[Resource]):
    """Each line on its own: a positive amount in cents; a scheme line names its scheme."""
    for i, exp in enumerate(expenses, start=1):
        name = f"Dépense n° {i} « {exp.label} »"
        if exp.amount <= 0:
            yield Violation("amount_positive", name, f"{name} : le montant doit être positif.")
        if exp.amount != money(exp.amount):
            yield Violation("cents", name, f"{name} : le montant a plus de deux décimales.")
    for i, res in enumerate(resources, start=1):
        name = _resource_name(i, res)
        if res.amount <= 0:
            yield Violation("amount_positive", name, f"{name} : le montant doit être positif.")
        if res.amount != money(res.amount):
            yield Violation("cents", name, f"{name} : le montant a plus de deux décimales.")
        if res.kind == "scheme" and res.scheme is None:
            yield Violation("scheme", name, f"{name} : précisez le dispositif sollicité.")


def tax_basis_violations(expenses: Sequence[Expense], basis: str):
    """Revised rule 10: a plan is HT (the owner recovers the VAT, e.g. through the FCTVA) or
    TTC for all its lines; each scheme's base is the eligible total in that basis."""
    for i, exp in enumerate(expenses, start=1):
        if exp.tax != basis:
            name = f"Dépense n° {i} « {exp.label} »"
            yield Violation(
                "tax_basis",
                name,
                f"{name} : la dépense est en {exp.tax} alors que le plan est présenté en "
                f"{basis} ; toutes les lignes d'un plan sont soit HT, soit TTC (on n'additionne "
                "pas des montants HT et TTC).",
            )


def _balance(total_resources: Decimal, total: Decimal):
    """1. The resources balance the eligible expense to the cent."""
    if total_resources != total:
        gap = total_resources - total
        what = "dépassent" if gap > 0 else "n'atteignent pas"
        yield Violation(
            "balance",
            "Total des ressources",
            f"Plan déséquilibré : les ressources ({euros(total_resources)}) {what} la "
            f"dépense éligible ({euros(total)}), écart de {euros(abs(gap))}.",
        )


def _duplicate_schemes(scheme_lines: list[tuple[int, Resource]]):
    """2. One line per scheme."""
    seen: dict[str, int] = {}
    for i, res in scheme_lines:
        if res.scheme.code in seen:
            yield Violation(
                "duplicate_scheme",
                _resource_name(i, res),
                f"{_resource_name(i, res)} : le dispositif {scheme_label(res.scheme)} figure déjà en "
                f"ressource n° {seen[res.scheme.code]} ; une seule ligne par dispositif.",
            )
        seen.setdefault(res.scheme.code, i)


def _scheme_bounds(scheme_lines: list[tuple[int, Resource]], total: Decimal, basis: str):
    """3. Each scheme's rate bounds (compared at 0.01 %, rule 9) and minimum amount."""
    for i, res in scheme_lines:
        name = _resource_name(i, res)
        rate = rate_of(res.amount, total)
        if rate < Decimal(res.scheme.rate_min):
            yield Violation(
                "rate_min",
                name,
                f"{name} : le taux d'aide ({percent(rate)} de la dépense éligible {basis}) est "
                f"inférieur au minimum du dispositif ({percent(res.scheme.rate_min)}).",
            )
        if rate > Decimal(res.scheme.rate_max):
            yield Violation(
                "rate_max",
                name,
                f"{name} : le taux d'aide ({percent(rate)} de la dépense éligible {basis}) "
                f"dépasse le maximum du dispositif ({percent(res.scheme.rate_max)}).",
            )
        if res.scheme.min_amount and res.amount < res.scheme.min_amount:
            yield Violation(
                "min_amount",
                name,
                f"{name} : l'aide {scheme_label(res.scheme)} doit être d'au moins "
                f"{euros(res.scheme.min_amount)} ({euros(res.amount)} demandés).",
            )


def own_share_floor(owner_kind: str | None, legal_case=None) -> Decimal | None:
    """Revised rule 8: the minimum own share of the project owner, as a part of all the
    public financing — 20 % (CGCT L1111-10 III) for a commune, an EPCI, a département or a
    région, lowered to the rate of the legal case of an exception recorded by an agent;
    ``None`` for an owner the article does not bind."""
    if owner_kind not in OWN_SHARE_KINDS:
        return None
    if legal_case is not None:
        return Decimal(legal_case.own_share_min)
    return OWN_SHARE_MIN


def _is_state(scheme) -> bool:
    funder = getattr(scheme, "funder", None)  # an unsaved Scheme may have none
    return bool(funder is not None and funder.is_state)


def scheme_ceiling(scheme) -> Decimal | None:
    """The public-aid ceiling this scheme brings to a plan that requests it (revised
    rule 8: only a State scheme's binds), or ``None``."""
    if not _is_state(scheme) or scheme.public_aid_ceiling is None:
        return None
    return Decimal(scheme.public_aid_ceiling)


def public_aid_ceiling(schemes: Iterable, owner_kind: str | None, legal_case=None):
    """Revised rule 8: the ceiling on total public aid (a ``Ceiling``, or ``None``). It is a
    rule of the State schemes (CGCT R2334-27): the lowest ``public_aid_ceiling`` of the State
    schemes requested; none without a State scheme. An exception lowers the own-share floor
    and lifts the ceiling accordingly, to ``1 − floor`` where that is higher."""
    state = [s for s in schemes if scheme_ceiling(s) is not None]
    if not state:
        return None
    strictest = min(state, key=scheme_ceiling)
    ceiling = Ceiling(scheme_ceiling(strictest), f"dispositif {scheme_label(strictest)}")
    floor = own_share_floor(owner_kind, legal_case)
    if legal_case is not None and floor is not None and ONE - floor > ceiling.rate:
        ceiling = Ceiling(
            ONE - floor,
            f"dispositif {scheme_label(strictest)}, relevé par la dérogation « {legal_case.label} » "
            f"({legal_case.source})",
        )
    return ceiling


def _ceiling_violations(ceiling: Ceiling | None, public_aid: Decimal, total: Decimal):
    """4. Total public aid within the ceiling, compared at 0.01 % (rule 9)."""
    if ceiling is None or rate_of(public_aid, total) <= ceiling.rate:
        return
    yield Violation(
        "public_aid_ceiling",
        "Total des aides publiques",
        f"Les aides publiques ({euros(public_aid)}, {percent(rate_of(public_aid, total))})"
        f" dépassent le plafond de {percent(ceiling.rate)} du coût éligible "
        f"(règle du {ceiling.source} : {euros(total * ceiling.rate)} au plus).",
    )


def _own_share(floor: Decimal | None, legal_case, public_aid: Decimal, own: Decimal):
    """5. Minimum own share of a project owner bound by CGCT L1111-10 III, compared at
    0.01 % of the public financing (rule 9)."""
    public_financing = public_aid + own
    if floor is None or not public_financing or rate_of(own, public_financing) >= floor:
        return
    required = money(public_financing * floor)
    if legal_case is None:
        why = "(CGCT L1111-10 III)"
        hint = " Une dérogation légale peut être enregistrée par l'agent."
    else:
        why = f"(dérogation « {legal_case.label} », {legal_case.source})"
        hint = ""
    yield Violation(
        "own_share",
        "Autofinancement",
        f"Autofinancement : le maître d'ouvrage doit apporter au moins {percent(floor)} des "
        f"financements publics {why}, soit {euros(required)} ; {euros(own)} prévus.{hint}",
    )


def _national_match(scheme_lines: list[tuple[int, Resource]], national_other: Decimal):
    """6. FEADER needs national public co-financing: the other public resources
    (``national_other``) and the non-FEADER schemes."""
    for i, res in scheme_lines:
        ratio = res.scheme.national_match_ratio
        if not ratio:
            continue
        match = sum((r.amount for _, r in scheme_lines if not r.scheme.is_feader), ZERO)
        match += national_other
        cap = (match * Decimal(ratio)).quantize(CENT)
        if res.amount > cap:
            name = _resource_name(i, res)
            yield Violation(
                "national_match",
                name,
                f"{name} : le FEADER ne peut dépasser {ratio} fois les contreparties publiques "
                f"nationales ({euros(match)}), soit {euros(cap)} ; {euros(res.amount)} demandés.",
            )


def _totals(out: PlanSummary, expenses, resources, owner_kind):
    """The sums of the plan; returns its scheme lines and the national public match
    other than the schemes."""
    out.total_eligible = sum((e.amount for e in expenses if e.eligible), ZERO)
    out.total_resources = sum((r.amount for r in resources), ZERO)
    scheme_lines = [(i, r) for i, r in enumerate(resources, 1) if r.kind == "scheme" and r.scheme]
    other_public = sum((r.amount for r in resources if r.kind == "other_public"), ZERO)
    out.own_funds = sum((r.amount for r in resources if r.kind == "self"), ZERO)
    out.public_aid = sum((r.amount for _, r in scheme_lines), ZERO) + other_public
    public_own = out.own_funds if owner_kind in PUBLIC_KINDS else ZERO
    return scheme_lines, other_public + public_own


def check_plan(
    expenses: Sequence[Expense],
    resources: Sequence[Resource],
    *,
    owner_kind: str | None,
    legal_case=None,
    tax_basis: str | None = None,
) -> PlanSummary:
    """Check every rule; return the totals and the list of violations (empty if valid).
    ``legal_case``: the ``LegalCase`` of an own-share exception recorded by an agent.
    ``tax_basis``: the plan's (by default its first line's)."""
    out = PlanSummary(tax_basis=tax_basis or (expenses[0].tax if expenses else "HT"))
    v = out.violations
    v.extend(_line_violations(expenses, resources))
    v.extend(tax_basis_violations(expenses, out.tax_basis))
    scheme_lines, national_other = _totals(out, expenses, resources, owner_kind)
    total = out.total_eligible
    out.own_share_min = own_share_floor(owner_kind, legal_case)
    out.ceiling = public_aid_ceiling([r.scheme for _, r in scheme_lines], owner_kind, legal_case)
    if total <= 0:
        v.append(Violation("no_expense", "Dépenses", NO_EXPENSE))
        return out
    if not scheme_lines:
        v.append(Violation("no_scheme", "Ressources", NO_SCHEME))
    v.extend(_balance(out.total_resources, total))
    v.extend(_duplicate_schemes(scheme_lines))
    v.extend(_scheme_bounds(scheme_lines, total, out.tax_basis))
    v.extend(_ceiling_violations(out.ceiling, out.public_aid, total))
    v.extend(_own_share(out.own_share_min, legal_case, out.public_aid, out.own_funds))
    v.extend(_national_match(scheme_lines, national_other))
    return out


def plan_messages(summary: PlanSummary) -> list[str]:
    return [x.message for x in summary.violations]


def lines_from_rows(expense_rows: Iterable, resource_rows: Iterable):
    """Convert model rows (ExpenseLine, ResourceLine) into rule values."""
    expenses = [Expense(e.label, e.amount, e.tax, e.eligible) for e in expense_rows]
    resources = [Resource(r.kind, r.amount, r.scheme, r.label) for r in resource_rows]
    return expenses, resources


# ---------------------------------------------------------------- required documents


@dataclass
class RequiredDocument:
    """One required piece of the dossier: its code and label, the schemes that ask for it
    (codes, in the order of the plan), the documents attached under that code."""

    code: str
    label: str
    schemes: list[str] = field(default_factory=list)
    docs: list = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return not self.docs


def required_documents(schemes: Iterable, documents: Iterable = ()) -> list[RequiredDocument]:
    """The pieces the requested schemes ask for (each once, in order), with the documents
    attached to each. One rule for the submit guard, the porteur's wizard and the agent's
    checklist."""
    attached: dict[str, list] = {}
    for doc in documents:
        attached.setdefault(doc.kind, []).append(doc)
    found: dict[str, RequiredDocument] = {}
    for scheme in schemes:
        for item in scheme.required_documents or []:
            entry = found.setdefault(item["code"], RequiredDocument(item["code"], item["label"]))
            if scheme.code not in entry.schemes:
                entry.schemes.append(scheme.code)
    for entry in found.values():
        entry.docs = attached.get(entry.code, [])
    return list(found.values())


# ---------------------------------------------------------------- payment ceilings


@dataclass(frozen=True)
class ClaimRoom:
    """What may still be claimed on a grant (domain.md « Payment claims »): the grant as a
    whole, advances (at most ``advance_max_rate`` of the grant; ``None``: the scheme has
    none), advances and installments together before the balance (at most
    ``installments_max_rate``). Amounts claimed count as paid once paid."""

    granted: Decimal
    claimed: Decimal
    advances: Decimal
    before_balance: Decimal
    advance_cap: Decimal | None
    before_balance_cap: Decimal

    @property
    def total(self) -> Decimal:
        return max(self.granted - self.claimed, ZERO)

    @property
    def installments(self) -> Decimal:
        return max(self.before_balance_cap - self.before_balance, ZERO)

    @property
    def advance(self) -> Decimal:
        """Room for an advance: under its own cap and the ceiling before the balance."""
        if self.advance_cap is None:
            return ZERO
        return max(min(self.advance_cap - self.advances, self.installments), ZERO)


def claim_room(
    *,
    granted: Decimal,
    advance_max_rate: Decimal | None,
    installments_max_rate: Decimal,
    claimed: Decimal,
    advances: Decimal,
    before_balance: Decimal,
) -> ClaimRoom:
    """One rule for the payment ceilings: the filing guard, the alerts and the pages."""
    granted = granted or ZERO
    return ClaimRoom(
        granted=granted,
        claimed=money(claimed),
        advances=money(advances),
        before_balance=money(before_balance),
        advance_cap=None if advance_max_rate is None else money(granted * advance_max_rate),
        before_balance_cap=money(granted * installments_max_rate),
    )


# ---------------------------------------------------------------- FEADER in step


def feader_lagging(fraction: Decimal, cofinancers: Iterable[tuple[Any, Decimal, Decimal]]):
    """The co-financers (their keys) that have been paid less than ``fraction`` of what
    they finally owe: FEADER follows its national match (domain.md). Each co-financer is
    ``(key, paid, due)``; one without anything due is not a co-financer."""
    return [key for key, paid, due in cofinancers if due and paid / due < fraction]


# ---------------------------------------------------------------- opinions


def opinion_kinds(role: str, case_state: str) -> list[str]:
    """The kinds of opinion a role may give on a dossier in this state: an EPCI partner
    gives its EPCI's opinion; an agent the cross-reading (« lecture transitionnelle ») and
    the EPCI opinion, and the avis d'opportunité while the project is an idea or being
    shaped upstream. One rule for the service that records it and the page that offers it."""
    if role == "epci_partner":
        return ["epci"]
    if role in ("agent", "admin"):
        kinds = ["transition", "epci"]
        if case_state in ("idea", "scoping"):
            kinds.insert(0, "opportunity")
        return kinds
    return []
