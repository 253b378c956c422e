"""The outside expert's page (no login): one dossier read-only through a one-time link,
and the form of the opinion. The link's token is the only key: unknown → 404, spent or
expired → a French page that says so (410), nothing of the dossier shown."""

from __future__ import annotations

from django import forms
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases import expert_selectors
from cases.models import ExpertInvitation
from cases.services.experts import expert_answer, link_refusal
from cases.services.plan import plan_summary
from engine.errors import DomainError

from .documents import file_response


class ExpertAnswerForm(forms.Form):
    answer = forms.CharField(
        label="Votre avis",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=10000,
        error_messages={"required": "Écrivez votre avis avant de l'envoyer."},
    )
    answer_value = forms.ChoiceField(
        label="Sens de l'avis (facultatif)",
        choices=[("", "Sans avis tranché"), *ExpertInvitation.Value.choices],
        required=False,
        widget=forms.RadioSelect,
    )


def _invitation_or_404(token: str) -> ExpertInvitation:
    invitation = expert_selectors.invitation_by_token(token)
    if invitation is None:
        raise Http404("Ce lien n'existe pas. Vérifiez qu'il a été copié en entier.")
    return invitation


def _closed(request, invitation: ExpertInvitation, message: str):
    return render(
        request,
        "web/experts/closed.html",
        {"message": message, "answered": invitation.answered_at is not None},
        status=410,
    )


def _private(response):
    response["Cache-Control"] = "no-store"
    # the token stays out of other sites' logs (not "no-referrer": the form post would send
    # « Origin: null » and fail its CSRF check)
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def expert_opinion(request, token: str):
    invitation = _invitation_or_404(token)
    refusal = link_refusal(invitation)
    if refusal:
        return _private(_closed(request, invitation, refusal))
    form = ExpertAnswerForm(request.POST or None, auto_id="expert-%s")
    if request.method == "POST" and form.is_valid():
        try:
            invitation = expert_answer(
                token=token,
                answer=form.cleaned_data["answer"],
                value=form.cleaned_data["answer_value"],
            )
        except DomainError as exc:
            if exc.code in ("gone", "not_found"):
                return _private(_closed(request, invitation, exc.message))
            for field, errs in (exc.errors or {}).items():
                for err in errs:
                    form.add_error(field if field in form.fields else None, err)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            return _private(render(request, "web/experts/thanks.html", {"invitation": invitation}))
    case = invitation.case
    context = {
        "invitation": invitation,
        "case": case,
        "token": token,
        "form": form,
        "documents": list(expert_selectors.invitation_documents(invitation)),
        "expenses": list(case.expenses.all()),
        "resources": list(case.resources.select_related("scheme__funder")),
        "summary": plan_summary(case),
        "requests": list(case.funding_requests.select_related("scheme")),
    }
    status = 400 if request.method == "POST" else 200
    return _private(render(request, "web/experts/opinion.html", context, status=status))


@never_cache
@require_http_methods(["GET"])
def expert_document(request, token: str, pk: int):
    """A piece of the invitation's dossier, while the link is open; any other → 404."""
    invitation = _invitation_or_404(token)
    if link_refusal(invitation):
        raise Http404("Ce lien n'est plus valable.")
    doc = expert_selectors.invitation_documents(invitation).filter(pk=pk).first()
    if doc is None:
        raise Http404("Pièce introuvable.")
    response: FileResponse = file_response(doc)
    return _private(response)
