"""The financing plan of a dossier: parsed once, replaced whole, checked by the rules."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from engine import inputs
from engine.errors import DomainError
from engine.outbox import event_emit
from schemes.models import LegalCase, Scheme

from .. import rules
from ..models import PLAN_FREE_STATES, Case, ExpenseLine, FundingRequest, ResourceLine
from ..permissions import require
from .common import clean_text

MAX_LINES = 100


def _money(value, where: str) -> Decimal:
    """A plan line's amount (``engine.inputs``): zero allowed in a draft, never negative."""
    try:
        return inputs.parse_money(value, field="amount", label="montant", allow_zero=True)
    except DomainError as exc:
        message = f"{where} : {exc.message[:1].lower()}{exc.message[1:]}"
        raise DomainError(message, errors={"financing_plan": [message]}) from None


def _plan_rows(plan) -> tuple[list, list]:
    """The two lists of rows of a plan ``{expenses, resources}``, bounded in length."""
    if not isinstance(plan, dict):
        raise DomainError(
            "Le plan de financement est un objet {expenses, resources}.",
            errors={"financing_plan": ["Objet attendu."]},
        )
    expenses_in = plan.get("expenses") or []
    resources_in = plan.get("resources") or []
    if not isinstance(expenses_in, list) or not isinstance(resources_in, list):
        raise DomainError(
            "Dépenses et ressources sont des listes.",
            errors={"financing_plan": ["Listes attendues."]},
        )
    if len(expenses_in) > MAX_LINES or len(resources_in) > MAX_LINES:
        raise DomainError(
            f"{MAX_LINES} lignes au plus par tableau.",
            errors={"financing_plan": ["Trop de lignes."]},
        )
    return expenses_in, resources_in


def _tax_basis(plan: dict) -> str | None:
    """The plan's declared ``tax_basis`` (revised rule 10), or ``None`` if not given."""
    basis = plan.get("tax_basis")
    if basis is None or basis in rules.TAX_BASES:
        return basis
    message = "« tax_basis » vaut HT ou TTC : tout le plan est présenté HT ou TTC."
    raise DomainError(message, errors={"financing_plan": [message]})


def _expense(row, where: str, basis: str | None) -> dict:
    """One expense line: label, amount, HT or TTC (by default the plan's), eligible or not."""
    if not isinstance(row, dict):
        raise DomainError(f"{where} : objet attendu.", errors={"financing_plan": [where]})
    tax = row.get("tax", basis or "HT")
    if tax not in ("HT", "TTC"):
        raise DomainError(
            f"{where} : « tax » vaut HT ou TTC.",
            errors={"financing_plan": [f"{where} : HT ou TTC."]},
        )
    eligible = row.get("eligible", True)
    if not isinstance(eligible, bool):
        raise DomainError(
            f"{where} : « eligible » est vrai ou faux.",
            errors={"financing_plan": [f"{where} : booléen attendu."]},
        )
    return {
        "label": clean_text(
            row.get("label"),
            field="financing_plan",
            label=f"le libellé ({where})",
            max_length=200,
            required=True,
        ),
        "amount": _money(row.get("amount"), where),
        "tax": tax,
        "eligible": eligible,
    }


def _resource(row, where: str, schemes: dict[str, Scheme]) -> dict:
    """One resource line: its kind, its scheme (an active one, by code), amount, label."""
    if not isinstance(row, dict):
        raise DomainError(f"{where} : objet attendu.", errors={"financing_plan": [where]})
    kind = row.get("kind")
    if kind not in ResourceLine.Kind.values:
        raise DomainError(
            f"{where} : « kind » vaut scheme, self, other_public ou other.",
            errors={"financing_plan": [f"{where} : type inconnu."]},
        )
    scheme = None
    if kind == "scheme":
        scheme = schemes.get(str(row.get("scheme") or ""))
        if scheme is None:
            raise DomainError(
                f"{where} : dispositif inconnu « {str(row.get('scheme'))[:40]} ».",
                errors={"financing_plan": [f"{where} : dispositif inconnu."]},
            )
    return {
        "kind": kind,
        "scheme": scheme,
        "amount": _money(row.get("amount"), where),
        "label": clean_text(
            row.get("label"),
            field="financing_plan",
            label=f"le libellé ({where})",
            max_length=200,
        ),
    }


def _check_totals(expenses: list[dict], resources: list[dict]) -> None:
    """Each total fits a money column."""
    for lines, what in ((expenses, "des dépenses"), (resources, "des ressources")):
        if sum((line["amount"] for line in lines), Decimal(0)) > inputs.MONEY_MAX:
            message = f"Le total {what} est invraisemblable (moins de 1 000 milliards d'euros)."
            raise DomainError(message, errors={"financing_plan": [message]})


def _check_tax_basis(expenses: list[dict], basis: str | None) -> str | None:
    """Every line in the plan's basis (declared, else its first line's): HT and TTC are
    never summed (revised rule 10); the message of ``rules`` names the line."""
    basis = basis or (expenses[0]["tax"] if expenses else None)
    lines = [rules.Expense(e["label"], e["amount"], e["tax"]) for e in expenses]
    messages = [v.message for v in rules.tax_basis_violations(lines, basis)]
    if messages:
        raise DomainError(
            "Plan de financement non conforme : " + " ".join(messages),
            errors={"financing_plan": messages},
        )
    return basis


def _parse_plan(plan) -> tuple[list[dict], list[dict], str | None]:
    expenses_in, resources_in = _plan_rows(plan)
    basis = _tax_basis(plan)
    schemes = {s.code: s for s in Scheme.objects.filter(active=True).select_related("funder")}
    expenses = [_expense(row, f"Dépense n° {i}", basis) for i, row in enumerate(expenses_in, 1)]
    resources = [
        _resource(row, f"Ressource n° {i}", schemes) for i, row in enumerate(resources_in, 1)
    ]
    _check_totals(expenses, resources)
    return expenses, resources, _check_tax_basis(expenses, basis)


def check_plan_kwargs(case: Case) -> dict:
    """What ``rules.check_plan`` needs of a dossier besides its lines: its owner's kind, its
    own-share exception, its tax basis (the plan's summary, the conference's plan)."""
    return {
        "owner_kind": case.organisation.kind,
        "legal_case": case.own_share_case if case.own_share_case_id else None,
        "tax_basis": case.tax_basis,
    }


def plan_summary(case: Case) -> rules.PlanSummary:
    prefetched = getattr(case, "_prefetched_objects_cache", {})
    lines = (
        case.resources.all()
        if "resources" in prefetched
        else (case.resources.select_related("scheme__funder"))
    )
    expenses, resources = rules.lines_from_rows(case.expenses.all(), lines)
    return rules.check_plan(expenses, resources, **check_plan_kwargs(case))


def plan_check(case: Case) -> rules.PlanSummary:
    """The plan's summary, or a DomainError listing every rule it breaks (in French)."""
    summary = plan_summary(case)
    if summary.violations:
        raise DomainError(
            "Plan de financement non conforme : " + " ".join(rules.plan_messages(summary)),
            code="guard",
            errors={"financing_plan": rules.plan_messages(summary)},
        )
    return summary


def plan_replace(case: Case, plan) -> None:
    """The plan of ``case`` replaced by ``plan`` (parsed here); after the deposit, checked
    and followed by the funding requests."""
    expenses, resources, basis = _parse_plan(plan)
    if basis is not None and basis != case.tax_basis:
        Case.objects.filter(pk=case.pk).update(tax_basis=basis)
        case.tax_basis = basis
    case.expenses.all().delete()
    case.resources.all().delete()
    ExpenseLine.objects.bulk_create(
        ExpenseLine(case=case, position=i, **e) for i, e in enumerate(expenses)
    )
    ResourceLine.objects.bulk_create(
        ResourceLine(case=case, position=i, **r) for i, r in enumerate(resources)
    )
    if case.state not in PLAN_FREE_STATES:
        # The rules bind from submit on: a plan changed afterwards stays valid, and the
        # requests follow their lines (no scheme may be added or dropped after submit).
        plan_check(case)
        requested = {fr.scheme_id: fr for fr in case.funding_requests.all()}
        lines = {r["scheme"].pk: r for r in resources if r["scheme"] is not None}
        if set(requested) != set(lines):
            raise DomainError(
                "Après le dépôt, les dispositifs sollicités ne peuvent plus changer "
                "(retirez une demande ou déposez un nouveau dossier).",
                code="guard",
                errors={"financing_plan": ["Dispositifs modifiés après le dépôt."]},
            )
        for scheme_id, fr in requested.items():
            FundingRequest.objects.filter(pk=fr.pk).update(
                amount_requested=lines[scheme_id]["amount"]
            )


# ---------------------------------------------------------------- own-share exception


def _legal_case(code) -> LegalCase:
    """An active legal case of CGCT L1111-10 III, by its code (data: ``schemes.LegalCase``)."""
    found = LegalCase.objects.filter(code=str(code or "")[:40], active=True).first()
    if found is None:
        codes = ", ".join(LegalCase.objects.filter(active=True).values_list("code", flat=True))
        message = f"Précisez le cas légal de la dérogation (« legal_case ») parmi : {codes}."
        raise DomainError(message, errors={"legal_case": [message]})
    return found


def case_record_share_exception(*, actor, case: Case, reason: str, legal_case=None) -> Case:
    """Revised rule 8: an agent records an exception to the 20 % own share (CGCT L1111-10
    III) naming its legal case, with the reason. It lowers the floor to that case's rate and
    lifts the public-aid ceiling accordingly; the checks still apply (after the deposit the
    plan must pass them with it). Recording again replaces the case."""
    require(actor, "share_exception")
    reason = clean_text(
        reason,
        field="reason",
        label="le motif légal de la dérogation",
        max_length=2000,
        required=True,
    )
    found = _legal_case(legal_case)
    if rules.own_share_floor(case.organisation.kind) is None:
        message = (
            f"Le maître d'ouvrage ({case.organisation.get_kind_display().lower()}) n'est pas "
            "tenu à la participation minimale de CGCT L1111-10 III (communes, EPCI, "
            "départements, régions) : aucune dérogation à enregistrer."
        )
        raise DomainError(message, code="guard", errors={"legal_case": [message]})
    with transaction.atomic():
        # Under the dossier's lock: a concurrent submit waits, and we read the state it left.
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state != case.state:
            raise DomainError("Le dossier a changé entre-temps : rechargez-le.", code="conflict")
        Case.objects.filter(pk=case.pk).update(
            own_share_case=found, own_share_exception_reason=reason
        )
        case.own_share_case, case.own_share_exception_reason = found, reason
        if case.state not in PLAN_FREE_STATES:
            plan_check(case)
        event_emit(
            topic="case.share_exception",
            subject=case,
            aggregate_id=case.pk,
            actor_id=actor.pk,
            payload={"reason": reason, "legal_case": found.code},
        )
    return case
