"""« Ma trésorerie » (issue 13): a porteur's treasury forecast as a page and as the PDF the
mayor takes to the bank (« Prévision de trésorerie — simulation de prêt relais »).

- ``/ma-tresorerie/``: the porteur's own organisation; it also declares there its cash at
  hand, cash limit, the date it needs the money by, its FCTVA regime, and per live dossier
  the planned works period and planned invoices (``cases.services.treasury``);
- ``/organisations/<id>/tresorerie/``: the same page, read-only, for whoever
  ``selectors.treasury_organisation_list`` lets read it (the porteur itself, its
  territory's staff); anyone else gets a 404.

The forecast is ``cases.treasury.treasury_forecast``; the chart is
``web.treasury_chart.forecast_chart`` (SVG, with the same figures in a table). The rate
of the bridging loan is typed in a small GET form (« taux », French decimals accepted);
a bad rate is refused in French beside the field and the default rate is used.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from cases import selectors, services
from cases.models import LIVE_GRANTS, Case, FundingRequest, PlannedInvoice, User
from cases.services.treasury import MAX_PLANNED_INVOICES, PLANNABLE_STATES
from cases.treasury import FORECAST_STATES, forecast_risk, params, treasury_forecast
from engine import inputs
from engine.errors import DomainError

from .pdf import pdf_response, render_pdf
from .porteur.common import error_summary, refusal_summary
from .treasury_chart import forecast_chart, month_label, trough_sentence

R = User.Role
RATE_PARAM = "taux"
KIND_LABELS = {
    "claim": "Demande de paiement déposée",
    "advance": "Avance",
    "installment": "Acompte",
    "balance": "Solde",
    "fctva": "FCTVA",
}


# ---------------------------------------------------------------- forms


def _text(label, help_text="", max_length=40):
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _date(label, help_text=""):
    return forms.CharField(
        label=label,
        required=False,
        max_length=20,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class OrganisationTreasuryForm(forms.Form):
    cash_at_hand = _text(
        "Trésorerie disponible aujourd'hui (€)",
        "Le solde disponible ce jour (au compte au Trésor pour une collectivité), par exemple "
        "25 000,00. Vide : inconnue.",
    )
    cash_limit = _text(
        "Seuil de trésorerie à ne pas franchir (€)",
        "Facultatif, par exemple 5 000,00 : l'alerte se déclenche sous ce seuil.",
    )
    money_needed_by = _date("Fonds nécessaires avant le", "Facultatif.")
    # Read by the service (a refusal there names every bad field at once).
    fctva_regime = forms.CharField(
        label="Régime de versement du FCTVA",
        required=False,
        max_length=2,
        widget=forms.Select(
            choices=[
                ("0", "Année N (versement l'année de la dépense)"),
                ("1", "Année N+1"),
                ("2", "Année N+2"),
            ]
        ),
    )


class WorksPlanForm(forms.Form):
    form_name = "travaux"
    planned_works_start = _date("Début prévu des travaux")
    planned_works_end = _date("Fin prévue des travaux")


class InvoiceForm(forms.Form):
    form_name = "facture"
    due_on = _date("Date de paiement prévue")
    amount = _text("Montant TTC (€)", "Par exemple 12 500,00.")
    label = forms.CharField(label="Libellé", required=False, max_length=200)


def _organisation_initial(org) -> dict:
    def amount(value):
        return "" if value is None else f"{value:,.2f}".replace(",", " ").replace(".", ",")

    return {
        "cash_at_hand": amount(org.cash_at_hand),
        "cash_limit": amount(org.cash_limit),
        "money_needed_by": org.money_needed_by.isoformat() if org.money_needed_by else "",
        "fctva_regime": str(org.fctva_regime),
    }


# ---------------------------------------------------------------- reads


def _organisation_or_404(request, pk: int):
    org = selectors.treasury_organisation_list(user=request.user).filter(pk=pk).first()
    if org is None:
        raise Http404("Organisation introuvable.")
    return org


def _rate(request) -> tuple[Decimal | None, str, str]:
    """(rate or None for the default, what was typed, the French error or "")."""
    raw = request.GET.get(RATE_PARAM, "")
    if not raw.strip():
        return None, "", ""
    try:
        rate = inputs.parse_decimal(
            raw[:40],
            field=RATE_PARAM,
            label="le taux du prêt relais",
            minimum=0,
            maximum=100,
            places=2,
            what="un taux annuel en %, par exemple 3,5",
        )
    except DomainError as exc:
        return None, raw[:40], exc.message
    return rate, raw[:40], ""


def _grants(org, forecast) -> tuple[list[dict], list]:
    """The live grants of the organisation's live dossiers with their expected payments
    (from the forecast's inflows), and the FCTVA refunds."""
    expected = defaultdict(list)
    fctva = []
    for flow in forecast.inflows:
        if flow.funding_request_id is not None:
            expected[flow.funding_request_id].append(flow)
        elif flow.kind == "fctva":
            fctva.append(flow)
    requests = (
        FundingRequest.objects.filter(
            case__organisation=org, case__state__in=FORECAST_STATES, state__in=LIVE_GRANTS
        )
        .select_related("scheme__funder", "case")
        .order_by("granted_on", "id")
    )
    rows = []
    for fr in requests:
        flows = sorted(expected.get(fr.pk, []), key=lambda f: (f.on_p50, f.on_p80))
        rows.append(
            {
                "fr": fr,
                "funder": fr.scheme.funder.name,
                "scheme": fr.scheme.label,
                "case": fr.case,
                "granted": fr.amount_granted or Decimal("0.00"),
                "paid": fr.amount_paid or Decimal("0.00"),
                "expected": [
                    {
                        "kind": KIND_LABELS.get(f.kind, f.kind),
                        "amount": f.amount,
                        "p50": f.on_p50,
                        "p80": f.on_p80,
                    }
                    for f in flows
                ],
                "expected_total": sum((f.amount for f in flows), Decimal("0.00")),
            }
        )
    return rows, sorted(fctva, key=lambda f: f.on_p50)


def percent_text(rate: Decimal) -> str:
    """« 3,5 », « 4 », « 3,25 »: a rate as a person writes it."""
    text = f"{rate.normalize():f}"
    return text.replace(".", ",")


def treasury_context(org, *, rate=None, today=None) -> dict:
    today = today or timezone.localdate()
    forecast = treasury_forecast(org, today=today, rate=rate)
    grants, fctva = _grants(org, forecast)
    p = params()
    return {
        "organisation": org,
        "territory": org.territory,
        "forecast": forecast,
        "chart": forecast_chart(forecast),
        "rows": [{"m": m, "label": month_label(m.month)} for m in forecast.months],
        "trough_p50": trough_sentence(forecast.trough_p50, "au délai médian (p50)"),
        "trough_p80": trough_sentence(forecast.trough_p80, "au 80e centile (p80)"),
        "trough_p80_month": month_label(forecast.trough_p80.month) if forecast.trough_p80 else "",
        "loan": forecast.loan,
        "loan_start": month_label(forecast.loan.start) if forecast.loan else "",
        "rate": percent_text(p.bridging_rate if rate is None else rate),
        "default_rate": percent_text(p.bridging_rate),
        "risk": forecast_risk(forecast, org.cash_limit),
        "grants": grants,
        "fctva": fctva,
        "issued_on": today,
        "first_month": month_label(forecast.months[0].month) if forecast.months else "",
        "last_month": month_label(forecast.months[-1].month) if forecast.months else "",
    }


# ---------------------------------------------------------------- the page


def _plannable_cases(org):
    return list(
        Case.objects.filter(organisation=org, state__in=PLANNABLE_STATES)
        .prefetch_related("planned_invoices")
        .order_by("id")
    )


def _page(request, org, *, editable: bool, status=200, errors=(), bound=None):
    # long: the one context of the page, shared by its reading, its refusals and its forms
    """The page; ``bound`` = (name, case_id, form) of a refused form, shown as typed."""
    rate, rate_typed, rate_error = _rate(request)
    ctx = treasury_context(org, rate=rate)
    base = (
        reverse("web:my-treasury")
        if editable
        else reverse("web:organisation-treasury", args=[org.pk])
    )
    pdf = (
        reverse("web:my-treasury-pdf")
        if editable
        else reverse("web:organisation-treasury-pdf", args=[org.pk])
    )
    if rate is not None:
        pdf += f"?{RATE_PARAM}={rate}"
    ctx.update(
        {
            "nav": "treasury" if editable else "",
            "editable": editable,
            "page_url": base,
            "pdf_url": pdf,
            "rate_typed": rate_typed,
            "rate_error": rate_error,
            "rate_param": RATE_PARAM,
            "errors": list(errors),
            "max_invoices": MAX_PLANNED_INVOICES,
        }
    )
    if editable:
        name, case_id, form = bound or (None, None, None)
        ctx["org_form"] = (
            form
            if name == "organisation"
            else OrganisationTreasuryForm(initial=_organisation_initial(org), prefix="org")
        )
        plans = []
        for case in _plannable_cases(org):
            works = WorksPlanForm(
                prefix=f"travaux-{case.pk}",
                initial={
                    "planned_works_start": case.planned_works_start.isoformat()
                    if case.planned_works_start
                    else "",
                    "planned_works_end": case.planned_works_end.isoformat()
                    if case.planned_works_end
                    else "",
                },
            )
            invoice = InvoiceForm(prefix=f"facture-{case.pk}")
            if case_id == case.pk and name == "travaux":
                works = form
            if case_id == case.pk and name == "facture":
                invoice = form
            invoices = list(case.planned_invoices.all())
            plans.append(
                {
                    "case": case,
                    "works": works,
                    "invoice": invoice,
                    "invoices": invoices,
                    "full": len(invoices) >= MAX_PLANNED_INVOICES,
                }
            )
        ctx["plans"] = plans
    return render(request, "web/treasury/page.html", ctx, status=status)


def _porteur_org(request):
    if request.user.effective_role != R.PORTEUR:
        return None
    if request.user.organisation_id is None:
        raise Http404("Aucune organisation n'est rattachée à votre compte.")
    return _organisation_or_404(request, request.user.organisation_id)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_treasury(request):
    org = _porteur_org(request)
    if org is None:
        return redirect("web:home")
    if request.method == "POST":
        return _save(request, org)
    return _page(request, org, editable=True)


@login_required
@require_GET
def organisation_treasury(request, pk: int):
    org = _organisation_or_404(request, pk)
    if request.user.effective_role == R.PORTEUR:  # its own: the page where it declares
        return redirect("web:my-treasury")
    return _page(request, org, editable=False)


def _case_of(org, raw) -> Case:
    case_id = inputs.read_id(raw)
    case = (
        Case.objects.filter(organisation=org, state__in=PLANNABLE_STATES, pk=case_id).first()
        if case_id
        else None
    )
    if case is None:
        raise Http404("Dossier introuvable.")
    return case


def _save(request, org):
    # long: the page's four forms dispatched in one place, each a few lines
    which = request.POST.get("formulaire", "")
    page = reverse("web:my-treasury")
    if which == "organisation":
        form = OrganisationTreasuryForm(request.POST, prefix="org")
        bound, done = ("organisation", None, form), "Trésorerie déclarée : la prévision est à jour."
        anchor = "declaration"

        def save(data):
            services.organisation_treasury_update(actor=request.user, organisation=org, data=data)

    elif which in ("travaux", "facture"):
        case = _case_of(org, request.POST.get("dossier"))
        cls = WorksPlanForm if which == "travaux" else InvoiceForm
        form = cls(request.POST, prefix=f"{which}-{case.pk}")
        bound = (which, case.pk, form)
        anchor = f"dossier-{case.pk}"
        if which == "travaux":
            done = f"Calendrier des travaux du dossier {case.reference} enregistré."

            def save(data):
                services.case_works_plan_update(actor=request.user, case=case, data=data)

        else:
            done = f"Facture prévue ajoutée au dossier {case.reference}."

            def save(data):
                services.planned_invoice_add(actor=request.user, case=case, data=data)

    elif which == "retirer":
        invoice_id = inputs.read_id(request.POST.get("facture"))
        invoice = (
            PlannedInvoice.objects.select_related("case")
            .filter(pk=invoice_id, case__organisation=org)
            .first()
            if invoice_id
            else None
        )
        if invoice is None:
            raise Http404("Facture introuvable.")
        try:
            services.planned_invoice_remove(actor=request.user, invoice=invoice)
        except DomainError as exc:
            return _page(request, org, editable=True, status=exc.status, errors=[("", exc.message)])
        messages.success(request, f"Facture prévue retirée du dossier {invoice.case.reference}.")
        return redirect(f"{page}#dossier-{invoice.case_id}")
    else:
        return _page(
            request,
            org,
            editable=True,
            status=400,
            errors=[("", "Formulaire inconnu : rechargez la page.")],
        )
    if not form.is_valid():
        return _page(
            request, org, editable=True, status=400, errors=error_summary(form), bound=bound
        )
    try:
        save(form.cleaned_data)
    except DomainError as exc:
        errors = refusal_summary(exc, form, tuple(form.fields))
        return _page(request, org, editable=True, status=exc.status, errors=errors, bound=bound)
    messages.success(request, done)
    return redirect(f"{page}#{anchor}")


# ---------------------------------------------------------------- the PDF


def _pdf(request, org, *, editable: bool):
    rate, _typed, error = _rate(request)
    if error:
        return _page(request, org, editable=editable, status=400)
    ctx = treasury_context(org, rate=rate)
    pdf = render_pdf("web/pdf/treasury.html", ctx)
    return pdf_response(pdf, f"pret-relais-{org.pk}-{ctx['issued_on']:%Y-%m-%d}.pdf")


@login_required
@require_GET
def my_treasury_pdf(request):
    org = _porteur_org(request)
    if org is None:
        return redirect("web:home")
    return _pdf(request, org, editable=True)


@login_required
@require_GET
def organisation_treasury_pdf(request, pk: int):
    return _pdf(request, _organisation_or_404(request, pk), editable=False)
