"""Porteur pages: filing a dossier step by step, the acknowledgement of receipt (PDF), the
list of the organisation's dossiers and the follow-up of one dossier.

Views are thin: they parse input (``web.porteur_forms``), call the services of ``cases``
and the engine's ``transition_apply``, and render. Every read goes through
``cases.selectors``: a dossier of another organisation is a 404, whatever the URL.
"""

from __future__ import annotations

from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cases import rules, selectors, services
from cases.models import (
    CLAIM_UNPAID,
    REQUEST_GRANTED,
    Case,
    CaseState,
    FundingRequest,
    PaymentClaim,
    RequestState,
    User,
)
from cases.payments import DelayBook, project_claim
from engine import inputs
from engine.calendar import period_end
from engine.errors import DomainError
from engine.models import Deadline
from engine.transitions import available_transitions, spec_of, state_of, transition_apply
from notifications.alert_selectors import alert_list
from notifications.labels import PARTY_LABELS, deadline_label, when_label
from notifications.models import Alert
from schemes.models import Scheme

from . import porteur_forms as pf
from .pdf import pdf_response, render_pdf

R = User.Role

STEPS = [
    ("projet", "Le projet"),
    ("plan", "Plan de financement"),
    ("dispositifs", "Dispositifs sollicités"),
    ("pieces", "Pièces justificatives"),
    ("recapitulatif", "Récapitulatif et dépôt"),
]
STEP_NAMES = [s for s, _ in STEPS]


def _case_action(name: str) -> dict:
    """A transition the porteur triggers from the follow-up page, as its descriptor says."""
    spec = spec_of(Case, name)
    return {
        "label": spec.label,
        "fields": tuple(f.name for f in spec.fields),
        "danger": spec.danger,
    }


# ---------------------------------------------------------------- helpers


def porteur_required(view):
    """Porteur pages: other roles go home (their own area shows them the dossier)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.effective_role != R.PORTEUR:
            return redirect("web:home")
        return view(request, *args, **kwargs)

    return wrapper


def _case(request, pk) -> Case:
    try:
        return selectors.case_get(user=request.user, pk=pk)
    except DomainError:
        raise Http404("Dossier introuvable.") from None


def _domain_errors(exc: DomainError, form=None, fields=()) -> list[str]:
    """Attach a domain error to the form fields it names; return the other messages."""
    rest = []
    for key, items in (exc.errors or {}).items():
        items = items if isinstance(items, list) else [items]
        if form is not None and key in form.fields and key in fields:
            for item in items:
                form.add_error(key, str(item))
        else:
            rest.extend(str(i) for i in items)
    return rest


LINE_KINDS = {"dep": "Dépense", "res": "Ressource"}  # prefixes of the plan's formsets


def error_summary(*forms) -> list[tuple[str, str]]:
    """[(anchor, message)] of the forms' errors, in field order, for the error summary."""
    out = []
    for form in forms:
        if form is None:
            continue
        line_kind = LINE_KINDS.get(getattr(form, "prefix", None))
        for index, sub in enumerate(getattr(form, "forms", [form]), start=1):
            line = f"{line_kind} n° {index} — " if line_kind else ""
            for name, errors in sub.errors.items():
                if name == "__all__":
                    out.extend(("", f"{line}{e}") for e in errors)
                    continue
                field_id = sub[name].auto_id if name in sub.fields else ""
                label = sub.fields[name].label if name in sub.fields else ""
                out.extend(
                    (field_id, f"{line}{label} : {e}" if label else f"{line}{e}") for e in errors
                )
        if hasattr(form, "non_form_errors"):
            out.extend(("", str(e)) for e in form.non_form_errors())
    return out


def _schemes():
    return list(Scheme.objects.filter(active=True).select_related("funder").order_by("code"))


def _step_url(case, step):
    return reverse("web:intake-step", args=[case.pk, step])


def _steps_context(case, current):
    done = STEP_NAMES.index(current) if current in STEP_NAMES else 0
    return [
        {
            "name": name,
            "label": label,
            "number": i + 1,
            "url": _step_url(case, name) if case else "",
            "current": name == current,
            "done": i < done,
        }
        for i, (name, label) in enumerate(STEPS)
    ]


def _after_save(request, case, step):
    """« Enregistrer le brouillon » stays on the step; « Continuer » goes to the next."""
    if request.POST.get("action") == "next" and step != STEP_NAMES[-1]:
        return redirect(_step_url(case, STEP_NAMES[STEP_NAMES.index(step) + 1]))
    messages.success(request, "Brouillon enregistré.")
    return redirect(_step_url(case, step))


def _editable_or_redirect(request, case):
    if case.state == CaseState.DRAFT:
        return None
    if case.state in (CaseState.IDEA, CaseState.SCOPING):
        messages.info(request, "Ouvrez d'abord la demande pour saisir le dossier.")
    else:
        messages.info(request, "Le dossier est déposé : suivez-le sur cette page.")
    return redirect("web:case-porteur", pk=case.pk)


def _plan_view(case, summary) -> dict:
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


def _required_documents(case) -> list[rules.RequiredDocument]:
    """The required pieces of the schemes in the plan (``rules.required_documents``)."""
    return rules.required_documents(
        [r.scheme for r in case.resources.all() if r.scheme_id], case.documents.all()
    )


# ---------------------------------------------------------------- intake (déposer)


@porteur_required
def intake_start(request):
    form = pf.ProjectForm(request.POST or None)
    errors = []
    if request.method == "POST":
        if form.is_valid():
            try:
                case = services.case_create(
                    actor=request.user, data={**form.to_data(), "state": CaseState.DRAFT}
                )
            except DomainError as exc:
                rest = _domain_errors(exc, form, form.fields)
                errors = error_summary(form) + [
                    ("", m) for m in (rest or ([] if exc.errors else [exc.message]))
                ]
            else:
                messages.success(
                    request,
                    f"Dossier {case.reference} créé en brouillon : vous pouvez le compléter "
                    "à votre rythme.",
                )
                return _after_save(request, case, "projet")
        else:
            errors = error_summary(form)
    return render(
        request,
        "web/porteur/intake_project.html",
        {
            "nav": "my-cases",
            "form": form,
            "case": None,
            "step": "projet",
            "steps": _steps_context(None, "projet"),
            "errors": errors,
            "themes": pf.THEMES,
        },
    )


@porteur_required
def intake_step(request, pk: int, step: str):
    case = _case(request, pk)
    if step not in STEP_NAMES:
        raise Http404("Étape inconnue.")
    if (response := _editable_or_redirect(request, case)) is not None:
        return response
    handler = {
        "projet": _step_project,
        "plan": _step_plan,
        "dispositifs": _step_schemes,
        "pieces": _step_documents,
        "recapitulatif": _step_recap,
    }[step]
    return handler(request, case)


def _render_step(request, case, step, template, context):
    return render(
        request,
        template,
        {
            "nav": "my-cases",
            "case": case,
            "step": step,
            "steps": _steps_context(case, step),
            **context,
        },
    )


def _update(request, case, data, form=None, fields=()) -> list[tuple[str, str]] | None:
    """Save through ``case_update``; None when saved, else the error summary entries."""
    try:
        services.case_update(actor=request.user, case=case, data=data)
    except DomainError as exc:
        rest = _domain_errors(exc, form, fields)
        return (error_summary(form) if form is not None else []) + [
            ("", m) for m in (rest or ([] if exc.errors else [exc.message]))
        ]
    return None


def _step_project(request, case):
    initial = {
        "title": case.title,
        "description": case.description,
        "theme": case.theme,
        "communes": [c.insee for c in case.communes.all()],
    }
    form = pf.ProjectForm(request.POST or None, initial=initial)
    errors = []
    if request.method == "POST":
        if form.is_valid():
            errors = _update(request, case, form.to_data(), form, form.fields)
            if errors is None:
                return _after_save(request, case, "projet")
        else:
            errors = error_summary(form)
    return _render_step(
        request,
        case,
        "projet",
        "web/porteur/intake_project.html",
        {"form": form, "errors": errors, "themes": pf.THEMES},
    )


def _blank_rows(request, name: str) -> int:
    try:
        return max(1, min(20, int(request.GET.get(name, 2))))
    except (TypeError, ValueError):
        return 2


def _step_plan(request, case):
    schemes = _schemes()
    exp_initial, res_initial = pf.plan_initial(case)
    errors = []
    if request.method == "POST":
        expenses = pf.expense_formset(data=request.POST)
        resources = pf.resource_formset(data=request.POST, schemes=schemes)
        if expenses.is_valid() and resources.is_valid():
            plan = {"expenses": pf.kept_rows(expenses), "resources": pf.kept_rows(resources)}
            errors = _update(request, case, {"financing_plan": plan})
            if errors is None:
                action = request.POST.get("action")
                if action in ("add_expense", "add_resource"):
                    dep = _blank_rows(request, "depenses") + (action == "add_expense")
                    res = _blank_rows(request, "ressources") + (action == "add_resource")
                    anchor = "depenses" if action == "add_expense" else "ressources"
                    return redirect(
                        f"{_step_url(case, 'plan')}?depenses={dep}&ressources={res}#{anchor}"
                    )
                return _after_save(request, case, "plan")
        else:
            errors = error_summary(expenses, resources)
    else:
        expenses = pf.expense_formset(
            initial=exp_initial, blank_rows=_blank_rows(request, "depenses")
        )
        resources = pf.resource_formset(
            initial=res_initial, blank_rows=_blank_rows(request, "ressources"), schemes=schemes
        )
    case = _case(request, case.pk)  # the plan as saved
    return _render_step(
        request,
        case,
        "plan",
        "web/porteur/intake_plan.html",
        {
            "expenses": expenses,
            "resources": resources,
            "errors": errors,
            "plan": _plan_view(case, services.plan_summary(case)),
            "schemes_json": {
                s.code: {
                    "min": str(s.rate_min),
                    "max": str(s.rate_max),
                    "min_amount": str(s.min_amount or ""),
                    "ceiling": str(s.public_aid_ceiling),
                }
                for s in schemes
            },
            "public_owner": case.organisation.is_public,
            "blank_query": request.GET.urlencode(),
        },
    )


def _step_schemes(request, case):
    schemes = _schemes()
    current = {r.scheme.code: r.amount for r in case.resources.all() if r.scheme_id}
    initial = {}
    for code, amount in current.items():
        initial[f"use_{code}"] = True
        initial[f"amount_{code}"] = amount
    form = pf.SchemeChoiceForm(request.POST or None, initial=initial, schemes=schemes)
    errors = []
    if request.method == "POST":
        if form.is_valid():
            chosen = form.chosen()
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
            errors = _update(request, case, {"financing_plan": {**plan, "resources": kept}})
            if errors is None:
                return _after_save(request, case, "dispositifs")
        else:
            errors = error_summary(form)
    case = _case(request, case.pk)
    summary = services.plan_summary(case)
    cards = []
    for s in schemes:
        cards.append(
            {
                "scheme": s,
                "use": form[f"use_{s.code}"],
                "amount": form[f"amount_{s.code}"],
                "rate_min": rules.percent(s.rate_min),
                "rate_max": rules.percent(s.rate_max),
                "ceiling": rules.percent(s.public_aid_ceiling),
                "min_amount": rules.euros(s.min_amount) if s.min_amount else "",
                "advance": rules.percent(s.advance_max_rate) if s.advance_max_rate else "",
                "installments": rules.percent(s.installments_max_rate),
                "requested": rules.euros(current[s.code]) if s.code in current else "",
            }
        )
    return _render_step(
        request,
        case,
        "dispositifs",
        "web/porteur/intake_schemes.html",
        {"form": form, "cards": cards, "errors": errors, "plan": _plan_view(case, summary)},
    )


def _step_documents(request, case):
    required = _required_documents(case)
    kinds = {r.code for r in required} | {"other"}
    errors, failed_kind, bound = [], None, None
    if request.method == "POST":
        failed_kind = request.POST.get("kind")
        if failed_kind not in kinds:
            failed_kind = "other"
        bound = pf.DocumentForm(request.POST, request.FILES, auto_id=f"id_{failed_kind}_%s")
        if bound.is_valid():
            try:
                doc = services.document_upload(
                    actor=request.user,
                    case=case,
                    kind=bound.cleaned_data["kind"],
                    upload=bound.cleaned_data["file"],
                    label=bound.cleaned_data["label"],
                )
            except DomainError as exc:
                bound.add_error(_upload_field(exc), exc.message)
                errors = error_summary(bound)
            else:
                messages.success(request, f"Pièce « {doc.filename} » enregistrée.")
                return redirect(_step_url(case, "pieces") + f"#piece-{doc.kind}")
        else:
            errors = error_summary(bound)
    cards = [
        {
            **vars(entry),
            "form": bound
            if failed_kind == entry.code
            else pf.DocumentForm(initial={"kind": entry.code}, auto_id=f"id_{entry.code}_%s"),
        }
        for entry in required
    ]
    other_form = (
        bound
        if failed_kind == "other"
        else pf.DocumentForm(initial={"kind": "other"}, auto_id="id_other_%s")
    )
    others = [d for d in case.documents.all() if d.kind not in {r.code for r in required}]
    return _render_step(
        request,
        case,
        "pieces",
        "web/porteur/intake_documents.html",
        {"required": cards, "other_form": other_form, "others": others, "errors": errors},
    )


def _step_recap(request, case):
    errors = []
    if request.method == "POST" and request.POST.get("action") == "submit":
        try:
            transition_apply(
                instance=case, name="submit", actor=request.user, comment="Dépôt en ligne."
            )
        except DomainError as exc:
            details = [str(m) for items in (exc.errors or {}).values() for m in items]
            # « Pièces obligatoires manquantes : a, b. » → the rule, then one line per item
            intro = exc.message.split(" : ", 1)[0] if details else exc.message
            errors = [("", intro)] + [("", d) for d in details]
        else:
            messages.success(
                request,
                f"Dossier {case.reference} déposé le {case.receipt_date:%d/%m/%Y}. Votre accusé "
                "de réception est disponible sur cette page.",
            )
            return redirect("web:case-porteur", pk=case.pk)
    elif request.method == "POST":
        return _after_save(request, case, "recapitulatif")
    case = _case(request, case.pk)
    return _render_step(
        request,
        case,
        "recapitulatif",
        "web/porteur/intake_recap.html",
        {
            "errors": errors,
            "plan": _plan_view(case, services.plan_summary(case)),
            "required": _required_documents(case),
            "communes": list(case.communes.all()),
        },
    )


# ---------------------------------------------------------------- acknowledgement (PDF)


def acknowledgement_context(case) -> dict:
    """What the acknowledgement of receipt states (CRPA R112-5): dates from the deadlines
    when they exist, else computed with the legal calendar from the schemes' periods."""
    receipt = case.receipt_date
    requests = list(case.funding_requests.all())
    deadlines = list(
        selectors.case_deadlines(case).exclude(state=Deadline.State.CANCELLED).order_by("-id")
    )
    completeness = next((d for d in deadlines if d.kind == "completeness"), None)
    implicit_by_request = {}
    for d in deadlines:
        if d.kind == "implicit_decision" and d.subject_type.model == "fundingrequest":
            implicit_by_request.setdefault(d.subject_id, d)
    rows = []
    for fr in requests:
        s = fr.scheme
        months = s.completeness_months or 0
        complete_by = (
            completeness.due_on
            if completeness is not None
            else period_end(receipt, months=months)
            if months
            else receipt
        )
        deadline = implicit_by_request.get(fr.pk)
        if deadline is not None:
            implicit, computed = deadline.due_on, False
        elif s.implicit_decision_months:
            start = case.complete_on or complete_by
            implicit, computed = period_end(start, months=s.implicit_decision_months), True
        else:
            implicit, computed = None, True
        rows.append(
            {
                "request": fr,
                "scheme": s,
                "amount": rules.euros(fr.amount_requested),
                "completeness_months": s.completeness_months,
                "complete_by": complete_by,
                "implicit": implicit,
                "implicit_computed": computed,
                "implicit_months": s.implicit_decision_months,
            }
        )
    return {
        "case": case,
        "organisation": case.organisation,
        "referent": case.referent_agent,
        "receipt": receipt,
        "rows": rows,
        "total": rules.euros(sum((fr.amount_requested for fr in requests), Decimal(0))),
        "completeness": completeness,
        "issued_on": timezone.localdate(),
        "communes": list(case.communes.all()),
    }


@login_required
@require_GET
def acknowledgement(request, pk: int):
    case = _case(request, pk)
    if case.receipt_date is None:
        raise Http404("Le dossier n'est pas encore déposé.")
    pdf = render_pdf("web/pdf/acknowledgement.html", acknowledgement_context(case))
    return pdf_response(pdf, f"accuse-reception-{case.reference or case.pk}.pdf")


# ---------------------------------------------------------------- my dossiers


@porteur_required
@require_GET
def my_cases(request):
    cases = list(
        selectors.case_list(user=request.user).prefetch_related(
            Prefetch(
                "funding_requests",
                queryset=FundingRequest.objects.select_related("scheme").order_by("id"),
            )
        )
    )
    ids = [c.pk for c in cases]
    next_deadline = {}
    for d in (
        Deadline.objects.filter(aggregate_id__in=ids, state=Deadline.State.OPEN)
        .order_by("due_on", "id")
        .only("aggregate_id", "kind", "due_on", "party")
    ):
        next_deadline.setdefault(d.aggregate_id, d)
    today = timezone.localdate()
    rows = []
    for c in cases:
        reqs = list(c.funding_requests.all())
        d = next_deadline.get(c.pk)
        rows.append(
            {
                "case": c,
                "badge": state_of(Case, c.state).badge,
                "next": state_of(Case, c.state).porteur,
                "deadline": d,
                "deadline_label": deadline_label(d.kind) if d else "",
                "deadline_party": _party(d.party) if d else "",
                "deadline_when": when_label((d.due_on - today).days) if d else "",
                "requested": rules.euros(sum((r.amount_requested for r in reqs), Decimal(0))),
                "granted": rules.euros(sum((r.amount_granted or 0 for r in reqs), Decimal(0))),
                "schemes": ", ".join(r.scheme.code for r in reqs),
                "url": (
                    _step_url(c, "projet")
                    if c.state == CaseState.DRAFT
                    else reverse("web:case-porteur", args=[c.pk])
                ),
            }
        )
    alerts = list(
        alert_list(user=request.user).filter(
            state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED]
        )[:20]
    )
    return render(
        request,
        "web/porteur/my_cases.html",
        {"nav": "my-cases", "rows": rows, "alerts": alerts},
    )


def _party(party: str) -> str:
    return {"porteur": "Vous", "agent": "L'agent référent du PETR"}.get(
        party, PARTY_LABELS.get(party, party)
    )


# ---------------------------------------------------------------- follow-up of one dossier


def _history(case, requests, claims) -> list[dict]:
    by_request = {fr.pk: fr for fr in requests}
    by_claim = {c.pk: c for c in claims}
    items = []
    for log in selectors.case_history(case):
        model = log.content_type.model
        oid = int(log.object_id)
        what = spec_of(log.content_type.model_class(), log.transition).event
        if model == "case":
            text = what
        elif model == "fundingrequest":
            fr = by_request.get(oid)
            text = f"Demande {fr.scheme.code if fr else ''} : {what}"
        else:
            claim = by_claim.get(oid)
            text = (
                f"{claim.get_kind_display()} {claim.funding_request.scheme.code} : {what}"
                if claim
                else what[:1].upper() + what[1:]
            )
        who = (log.by.get_full_name() or log.by.username) if log.by_id else "automatique"
        items.append(
            {"at": log.timestamp, "text": text, "who": who, "comment": log.description or ""}
        )
    return items


def _payments(requests, claims, today, claim_actions) -> dict:
    delays = DelayBook(today)
    rows = []
    for fr in requests:
        granted = fr.amount_granted if fr.state in REQUEST_GRANTED else None
        own_claims = [c for c in claims if c.funding_request_id == fr.pk]
        claim_rows = []
        for c in own_claims:
            projected = None
            if c.state in CLAIM_UNPAID:
                p = project_claim(c, today, delays(fr.scheme))
                projected = {"on": p.projected_on, "late": p.expected_passed}
            claim_rows.append(
                {"claim": c, "projected": projected, "actions": claim_actions.get(c.pk, [])}
            )
        rows.append(
            {
                "request": fr,
                "granted": granted,
                "remaining": (granted - fr.amount_paid) if granted is not None else None,
                "claims": claim_rows,
                "can_claim": fr.state in (RequestState.COMMITTED, RequestState.PAYING),
            }
        )
    return {
        "rows": rows,
        "paid": sum((fr.amount_paid for fr in requests), Decimal(0)),
        "expected": sum((r["remaining"] for r in rows if r["remaining"] is not None), Decimal(0)),
    }


def _tracking(request, case, *, status=200, errors=(), **forms):
    user = request.user
    today = timezone.localdate()
    requests = list(case.funding_requests.all())
    claims = list(
        selectors.claim_list(user=user)
        .filter(funding_request__case_id=case.pk)
        .select_related("funding_request__case", "funding_request__scheme")
        .order_by("id")
    )
    deadlines = list(selectors.case_deadlines(case))
    open_deadlines = [
        {
            "deadline": d,
            "label": deadline_label(d.kind),
            "party": _party(d.party),
            "mine": d.party == "porteur",
            "when": when_label((d.due_on - today).days),
        }
        for d in deadlines
        if d.state == Deadline.State.OPEN
    ]
    case_actions = []
    for name in available_transitions(case, user):
        if not spec_of(Case, name).porteur_action:
            continue
        bound = forms.get("action_form")
        form = (
            bound
            if bound is not None
            and bound.data.get("transition") == name
            and not bound.data.get("target")
            else pf.TransitionForm(initial={"transition": name}, auto_id=f"id_{name}_%s")
        )
        case_actions.append({"name": name, "form": form, **_case_action(name)})
    request_actions = {
        fr.pk: [n for n in available_transitions(fr, user) if n == "withdraw"] for fr in requests
    }
    claim_actions = {
        c.pk: [n for n in available_transitions(c, user) if n in ("file", "withdraw")]
        for c in claims
    }
    committed = [fr for fr in requests if fr.state in (RequestState.COMMITTED, RequestState.PAYING)]
    claim_form = forms.get("claim_form") or (
        pf.ClaimForm(requests=committed, auto_id="id_claim_%s") if committed else None
    )
    documents = list(selectors.document_list(user=user, case=case).select_related("uploaded_by"))
    kind_choices = [(r.code, r.label) for r in _required_documents(case)]
    kind_choices.append(("other", "Autre pièce"))
    thread = list(selectors.message_list(user=user, case=case))
    alerts = list(
        alert_list(user=user)
        .filter(state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED])
        .filter(Q(case_id=case.pk) | Q(case__isnull=True, organisation_id=case.organisation_id))
    )
    context = {
        "nav": "my-cases",
        "case": case,
        "badge": state_of(Case, case.state).badge,
        "next_step": state_of(Case, case.state).porteur,
        "history": _history(case, requests, claims),
        "deadlines": [{"deadline": d, "label": deadline_label(d.kind)} for d in deadlines],
        "open_deadlines": open_deadlines,
        "referent": case.referent_agent,
        "requests": requests,
        "payments": _payments(requests, claims, today, claim_actions),
        "request_rows": [{"fr": fr, "actions": request_actions[fr.pk]} for fr in requests],
        "claim_form": claim_form,
        "case_actions": case_actions,
        "action_form": forms.get("action_form"),
        "documents": documents,
        "document_form": forms.get("document_form")
        or pf.DocumentForm(kind_choices=kind_choices, auto_id="id_doc_%s"),
        "can_upload": not case.is_terminal,
        "can_provide": "provide_documents" in available_transitions(case, user),
        "thread": thread,
        "message_form": forms.get("message_form") or pf.MessageForm(auto_id="id_msg_%s"),
        "alerts": alerts,
        "errors": list(errors),
        "can_edit": case.state == CaseState.DRAFT,
        "edit_url": _step_url(case, "projet"),
        "acknowledgement": case.receipt_date is not None,
    }
    return render(request, "web/porteur/case.html", context, status=status)


@porteur_required
@require_GET
def case_porteur(request, pk: int):
    return _tracking(request, _case(request, pk))


@porteur_required
@require_POST
def case_message(request, pk: int):
    case = _case(request, pk)
    form = pf.MessageForm(request.POST, auto_id="id_msg_%s")
    if form.is_valid():
        try:
            services.message_post(actor=request.user, case=case, body=form.cleaned_data["body"])
        except DomainError as exc:
            form.add_error("body", exc.message)
        else:
            messages.success(request, "Message envoyé à votre agent référent.")
            return redirect(reverse("web:case-porteur", args=[case.pk]) + "#messages")
    return _tracking(request, case, status=400, errors=error_summary(form), message_form=form)


@porteur_required
@require_POST
def case_document(request, pk: int):
    case = _case(request, pk)
    kind_choices = [(r.code, r.label) for r in _required_documents(case)]
    kind_choices.append(("other", "Autre pièce"))
    form = pf.DocumentForm(
        request.POST, request.FILES, kind_choices=kind_choices, auto_id="id_doc_%s"
    )
    if form.is_valid():
        try:
            doc = services.document_upload(
                actor=request.user,
                case=case,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                label=form.cleaned_data["label"],
            )
        except DomainError as exc:
            form.add_error(_upload_field(exc), exc.message)
            return _tracking(
                request, case, status=400, errors=error_summary(form), document_form=form
            )
        messages.success(request, f"Pièce « {doc.filename} » enregistrée.")
        return redirect(reverse("web:case-porteur", args=[case.pk]) + "#pieces")
    return _tracking(request, case, status=400, errors=error_summary(form), document_form=form)


def _upload_field(exc: DomainError) -> str:
    """The field a refused upload is about (the whole French message goes next to it)."""
    return next((k for k in exc.errors if k in ("kind", "label")), "file")


def _action_target(request, case, target: str):
    """The object a transition applies to: the dossier, one of its requests or claims."""
    if not target:
        return case
    kind, _, raw = target.partition(":")
    pk = inputs.read_id(raw)  # ASCII digits: « request:٤١٢ » is not request 412
    if pk is None:
        raise Http404("Objet introuvable.")
    if kind == "request":
        obj = (
            selectors.funding_request_list(user=request.user).filter(case_id=case.pk, pk=pk).first()
        )
    elif kind == "claim":
        obj = (
            selectors.claim_list(user=request.user)
            .select_related("funding_request__case")
            .filter(funding_request__case_id=case.pk, pk=pk)
            .first()
        )
    else:
        obj = None
    if obj is None:
        raise Http404("Objet introuvable.")
    return obj


@porteur_required
@require_POST
def case_action(request, pk: int):
    case = _case(request, pk)
    slug = "".join(
        ch for ch in request.POST.get("transition", "")[:40] if ch.isalnum() or ch == "_"
    )
    form = pf.TransitionForm(request.POST, auto_id=f"id_{slug}_%s")
    if form.is_valid():
        name = form.cleaned_data["transition"]
        target = _action_target(request, case, form.cleaned_data.get("target") or "")
        try:
            transition_apply(instance=target, name=name, actor=request.user, data=form.to_data())
        except DomainError as exc:
            rest = _domain_errors(exc, form, ("date", "reason"))
            if not form.errors and not rest:
                rest = [exc.message]
            elif exc.message not in rest:
                rest.insert(0, exc.message)
            return _tracking(
                request,
                _case(request, pk),
                status=400,
                errors=error_summary(form) + [("", m) for m in rest if m],
                action_form=form,
            )
        messages.success(request, "C'est enregistré.")
        if name == "open_application":
            return redirect(_step_url(case, "projet"))
        return redirect("web:case-porteur", pk=case.pk)
    return _tracking(request, case, status=400, errors=error_summary(form), action_form=form)


@porteur_required
@require_POST
def case_claim(request, pk: int):
    case = _case(request, pk)
    committed = [
        fr
        for fr in case.funding_requests.all()
        if fr.state in (RequestState.COMMITTED, RequestState.PAYING)
    ]
    form = pf.ClaimForm(request.POST, requests=committed, auto_id="id_claim_%s")
    if form.is_valid():
        fr = _action_target(request, case, f"request:{form.cleaned_data['funding_request']}")
        try:
            claim = services.claim_create(
                actor=request.user, funding_request=fr, data=form.to_data()
            )
        except DomainError as exc:
            rest = _domain_errors(exc, form, ("kind", "amount", "filed_on"))
            if not form.errors:
                rest = rest or [exc.message]
            return _tracking(
                request,
                case,
                status=400,
                errors=error_summary(form) + [("", m) for m in rest],
                claim_form=form,
            )
        if request.POST.get("action") == "file":
            claim = PaymentClaim.objects.select_related(
                "funding_request__case", "funding_request__scheme"
            ).get(pk=claim.pk)
            try:
                transition_apply(instance=claim, name="file", actor=request.user)
            except DomainError as exc:
                messages.error(
                    request,
                    "La demande de paiement est enregistrée en brouillon mais n'a pas pu être "
                    f"déposée : {exc.message}",
                )
                return redirect(reverse("web:case-porteur", args=[case.pk]) + "#paiements")
            messages.success(request, "Demande de paiement déposée.")
        else:
            messages.success(request, "Demande de paiement enregistrée en brouillon.")
        return redirect(reverse("web:case-porteur", args=[case.pk]) + "#paiements")
    return _tracking(request, case, status=400, errors=error_summary(form), claim_form=form)
