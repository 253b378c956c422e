"""The financing plan steps of the intake: the lines of expenses and resources, then the
schemes asked for (with the amounts asked from each)."""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import redirect

from cases import rules, services
from cases.calls import call_label, calls_offered
from schemes.models import Scheme

from .. import porteur_forms as pf
from .common import case_or_404, error_summary, step_url
from .steps import after_save, render_step, save


def active_schemes() -> list[Scheme]:
    return list(Scheme.objects.filter(active=True).select_related("funder").order_by("code"))


def plan_view(case, summary) -> dict:
    """Totals, rates and violations of the saved plan, for display."""
    total = summary.total_eligible
    lines = []
    for r in case.resources.all():
        rate = (r.amount / total).quantize(Decimal("0.0001")) if total else None
        lines.append((r, rules.percent(rate) if rate is not None else "—"))
    return {
        "summary": summary,
        "resource_rates": lines,
        "total_eligible": rules.euros(summary.total_eligible),
        "total_resources": rules.euros(summary.total_resources),
        "public_aid": rules.euros(summary.public_aid),
        "own_funds": rules.euros(summary.own_funds),
        "public_rate": rules.percent(summary.public_aid_rate),
        "gap": rules.euros(abs(summary.total_resources - summary.total_eligible)),
        "balanced": summary.total_resources == summary.total_eligible,
        "empty": not summary.total_eligible and not summary.total_resources,
        "violations": rules.plan_messages(summary),
    }


# ---------------------------------------------------------------- the plan


def _floor_text(summary) -> str:
    """Revised rule 8: the own share the owner must bring, or "" where none binds."""
    floor = summary.own_share_min
    return rules.percent(floor) if floor is not None else ""


def _blank_rows(request, name: str) -> int:
    try:
        return max(1, min(20, int(request.GET.get(name, 2))))
    except (TypeError, ValueError):
        return 2


def _more_rows(request, case, action: str):
    """« Ajouter une ligne »: the plan again, with one more blank row where asked."""
    dep = _blank_rows(request, "depenses") + (action == "add_expense")
    res = _blank_rows(request, "ressources") + (action == "add_resource")
    anchor = "depenses" if action == "add_expense" else "ressources"
    return redirect(f"{step_url(case, 'plan')}?depenses={dep}&ressources={res}#{anchor}")


def _schemes_json(schemes) -> dict:
    """The bounds of each scheme, for the page's live checks."""
    return {
        s.code: {
            "label": pf.scheme_label(s),
            "min": str(s.rate_min),
            "max": str(s.rate_max),
            "min_amount": str(s.min_amount or ""),
        }
        for s in schemes
    }


def plan_posted(request, case, schemes):
    """The plan posted on the plan step: its forms, and the plan to save (None when a
    form is invalid). Shared by the step and its autosave (``autosave``)."""
    basis = pf.TaxBasisForm(
        request.POST if "tax_basis" in request.POST else None,
        initial={"tax_basis": case.tax_basis},
    )
    expenses = pf.expense_formset(data=request.POST)
    resources = pf.resource_formset(data=request.POST, schemes=schemes)
    basis_ok = not basis.is_bound or basis.is_valid()
    plan = None
    if basis_ok and expenses.is_valid() and resources.is_valid():
        plan = {
            "tax_basis": basis.cleaned_data["tax_basis"] if basis.is_bound else case.tax_basis,
            "expenses": pf.kept_rows(expenses),
            "resources": pf.kept_rows(resources),
        }
    return basis, expenses, resources, plan


def step_plan(request, case):
    schemes = active_schemes()
    errors = []
    basis = pf.TaxBasisForm(initial={"tax_basis": case.tax_basis})
    if request.method == "POST":
        basis, expenses, resources, plan = plan_posted(request, case, schemes)
        if plan is not None:
            errors = save(request, case, {"financing_plan": plan})
            if errors is None:
                action = request.POST.get("action")
                if action in ("add_expense", "add_resource"):
                    return _more_rows(request, case, action)
                return after_save(request, case, "plan")
        else:
            errors = error_summary(basis, expenses, resources)
    else:
        exp_initial, res_initial = pf.plan_initial(case)
        expenses = pf.expense_formset(
            initial=exp_initial, blank_rows=_blank_rows(request, "depenses")
        )
        resources = pf.resource_formset(
            initial=res_initial, blank_rows=_blank_rows(request, "ressources"), schemes=schemes
        )
    case = case_or_404(request, case.pk)  # the plan as saved
    summary = services.plan_summary(case)
    return render_step(
        request,
        case,
        "plan",
        "web/porteur/intake_plan.html",
        {
            "basis": basis,
            "expenses": expenses,
            "resources": resources,
            "errors": errors,
            "plan": plan_view(case, summary),
            "schemes_json": _schemes_json(schemes),
            "own_share_floor": _floor_text(summary),
            "blank_query": request.GET.urlencode(),
        },
    )


# ---------------------------------------------------------------- the schemes asked for


def plan_with_schemes(case, chosen: dict) -> dict:
    """The saved plan whose scheme lines are the ``chosen`` ones ({code: amount}): kept
    lines take their new amount, new schemes come last, other resources stay."""
    chosen = dict(chosen)
    plan = pf.plan_rows(case)
    kept = []
    for row in plan["resources"]:
        if row["kind"] != "scheme":
            kept.append(row)
        elif row["scheme"] in chosen:
            kept.append({**row, "amount": chosen.pop(row["scheme"])})
    kept += [
        {"kind": "scheme", "scheme": code, "label": "", "amount": amount}
        for code, amount in chosen.items()
    ]
    return {**plan, "resources": kept}


def _ceiling_text(scheme) -> str:
    """Revised rule 8: the ceiling binds when a State scheme is requested."""
    ceiling = rules.scheme_ceiling(scheme)
    if ceiling is None:
        return (
            "aucun plafond propre (celui de l'État s'applique si un dispositif de l'État "
            "est sollicité)"
        )
    return f"{rules.percent(ceiling)} du coût éligible (dispositif de l'État)"


def _scheme_cards(schemes, form, current: dict) -> list[dict]:
    """One card per scheme: its checkbox and amount fields, its rates and ceilings."""
    return [
        {
            "scheme": s,
            "label": pf.scheme_label(s),
            "use": form[f"use_{s.code}"],
            "amount": form[f"amount_{s.code}"],
            "rate_min": rules.percent(s.rate_min),
            "rate_max": rules.percent(s.rate_max),
            "ceiling": _ceiling_text(s),
            "min_amount": rules.euros(s.min_amount) if s.min_amount else "",
            "advance": rules.percent(s.advance_max_rate) if s.advance_max_rate else "",
            "installments": rules.percent(s.installments_max_rate),
            "requested": rules.euros(current[s.code]) if s.code in current else "",
        }
        for s in schemes
    ]


def step_schemes(request, case):
    schemes = active_schemes()
    current = {r.scheme.code: r.amount for r in case.resources.all() if r.scheme_id}
    initial = {}
    for code, amount in current.items():
        initial[f"use_{code}"] = True
        initial[f"amount_{code}"] = amount
    form = pf.SchemeChoiceForm(request.POST or None, initial=initial, schemes=schemes)
    errors = []
    if request.method == "POST":
        if form.is_valid():
            data = {"financing_plan": plan_with_schemes(case, form.chosen())}
            if "call" in request.POST:  # the select « Appel à projets » (issue 14 point 5)
                data["call"] = request.POST["call"]
            errors = save(request, case, data)
            if errors is None:
                return after_save(request, case, "dispositifs")
        else:
            errors = error_summary(form)
    case = case_or_404(request, case.pk)
    return render_step(
        request,
        case,
        "dispositifs",
        "web/porteur/intake_schemes.html",
        {
            "form": form,
            "cards": _scheme_cards(schemes, form, current),
            "errors": errors,
            "plan": plan_view(case, services.plan_summary(case)),
            "calls": [(c.pk, call_label(c)) for c in calls_offered(case)],
        },
    )
