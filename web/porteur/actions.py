"""What the porteur posts from the follow-up page: a message to the agent, a transition
(of the dossier, of one of its requests or claims), a payment claim. A refusal shows the
page again with the French message and what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cases import services
from cases.models import PaymentClaim
from cases.services.payments import claim_create_filed
from engine.errors import DomainError
from engine.transitions import transition_apply

from .. import porteur_forms as pf
from ..messages import posted_files
from ..works import balance_figures
from .common import (
    action_target,
    case_or_404,
    claimable_requests,
    domain_errors,
    error_summary,
    porteur_required,
    step_url,
    tracking_url,
)
from .tracking import tracking_page


@porteur_required
@require_POST
def case_message(request, pk: int):
    case = case_or_404(request, pk)
    form = pf.MessageForm(request.POST, auto_id="id_msg_%s")
    if form.is_valid():
        try:
            services.message_post(
                actor=request.user,
                case=case,
                body=form.cleaned_data["body"],
                attachments=posted_files(request),
            )
        except DomainError as exc:
            form.add_error("attachments" if "attachments" in exc.errors else "body", exc.message)
        else:
            messages.success(request, "Message envoyé à votre agent référent.")
            return redirect(tracking_url(case, "messages"))
    return tracking_page(request, case, status=400, errors=error_summary(form), message_form=form)


@porteur_required
@require_POST
def case_action(request, pk: int):
    case = case_or_404(request, pk)
    slug = "".join(
        ch for ch in request.POST.get("transition", "")[:40] if ch.isalnum() or ch == "_"
    )
    form = pf.TransitionForm(request.POST, auto_id=f"id_{slug}_%s")
    if not form.is_valid():
        return tracking_page(
            request, case, status=400, errors=error_summary(form), action_form=form
        )
    name = form.cleaned_data["transition"]
    target = action_target(request, case, form.cleaned_data.get("target") or "")
    try:
        transition_apply(instance=target, name=name, actor=request.user, data=form.to_data())
    except DomainError as exc:
        rest = domain_errors(exc, form, ("date", "reason"))
        if not form.errors and not rest:
            rest = [exc.message]
        elif exc.message not in rest:
            rest.insert(0, exc.message)
        return tracking_page(
            request,
            case_or_404(request, pk),
            status=400,
            errors=error_summary(form) + [("", m) for m in rest if m],
            action_form=form,
        )
    messages.success(request, "C'est enregistré.")
    if name == "open_application":
        return redirect(step_url(case, "projet"))
    return redirect(tracking_url(case))


@porteur_required
@require_POST
def case_claim(request, pk: int):
    case = case_or_404(request, pk)
    committed = claimable_requests(case.funding_requests.all())
    form = pf.ClaimForm(request.POST, requests=committed, auto_id="id_claim_%s")
    preview = request.POST.get("action") == "preview"
    if preview:
        form.fields["amount"].required = False  # the preview computes it
    if not form.is_valid():
        return tracking_page(request, case, status=400, errors=error_summary(form), claim_form=form)
    fr = action_target(request, case, f"request:{form.cleaned_data['funding_request']}")
    if preview:
        return _balance_preview(request, case, fr, form, committed)
    filing = request.POST.get("action") == "file"
    try:
        # Filed at once, or nothing is kept: a refused filing leaves no draft behind.
        create = claim_create_filed if filing else services.claim_create
        create(actor=request.user, funding_request=fr, data=form.to_data())
    except DomainError as exc:
        # shown at the claim form, as typed, the guard's reason first
        rest = domain_errors(exc, form, ("kind", "amount", "filed_on", "actual_cost"))
        if "date" in (exc.errors or {}):  # the guard's « date » is the form's filing date
            form.add_error("filed_on", exc.message)
            rest = [m for m in rest if m not in exc.errors["date"]]
        elif exc.message not in rest and exc.message not in _items(exc):
            rest.insert(0, exc.message)
        return tracking_page(
            request,
            case_or_404(request, pk),
            status=400,
            errors=error_summary(form) + [("", m) for m in rest],
            claim_form=form,
        )
    if filing:
        messages.success(request, "Demande de paiement déposée.")
    else:
        messages.success(request, "Demande de paiement enregistrée en brouillon.")
    return redirect(tracking_url(case, "paiements"))


def _balance_preview(request, case, fr, form, committed):
    """The balance the actual eligible cost gives (``web.works.balance_figures``, on the
    rule of ``cases.payments``), shown with the form filled in for a balance of that
    amount; nothing is saved."""
    actual = form.cleaned_data.get("actual_cost")
    if actual is None:
        form.add_error("actual_cost", "Indiquez le coût réel pour calculer le solde.")
        return tracking_page(request, case, status=400, errors=error_summary(form), claim_form=form)
    figures = balance_figures(fr, actual)
    data = request.POST.copy()
    data["kind"] = PaymentClaim.Kind.BALANCE
    data["amount"] = f"{figures['balance']:.2f}".replace(".", ",")
    filled = pf.ClaimForm(data, requests=committed, auto_id="id_claim_%s")
    filled.is_valid()
    return tracking_page(request, case, claim_form=filled, balance_preview=figures)


def _items(exc: DomainError) -> list[str]:
    """Every message a domain error attaches to its fields."""
    out = []
    for items in (exc.errors or {}).values():
        out.extend(str(i) for i in (items if isinstance(items, list) else [items]))
    return out
