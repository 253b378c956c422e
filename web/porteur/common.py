"""What the porteur pages share: the role check, the dossier read through the selectors,
the error summary of a refused form, the intake steps and their URLs.

Every read goes through ``cases.selectors``: a dossier of another organisation is a 404,
whatever the URL.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from cases import request_status, rules, selectors
from cases.models import Case, User
from engine import inputs
from engine.errors import DomainError
from notifications.labels import PARTY_LABELS

from ..porteur_forms import scheme_label

R = User.Role

STEPS = [
    ("projet", "Le projet"),
    ("plan", "Plan de financement"),
    ("dispositifs", "Dispositifs sollicités"),
    ("pieces", "Pièces justificatives"),
    ("recapitulatif", "Récapitulatif et dépôt"),
]
STEP_NAMES = [s for s, _ in STEPS]

# The requests a payment claim may be filed against (``claim_create`` refuses the others;
# the pages offer the form only for these, and not once their balance is filed).
CLAIMABLE = request_status.CLAIMABLE

LINE_KINDS = {"dep": "Dépense", "res": "Ressource"}  # prefixes of the plan's formsets


def porteur_required(view):
    """Porteur pages: other roles go home (their own area shows them the dossier)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.effective_role != R.PORTEUR:
            return redirect("web:home")
        return view(request, *args, **kwargs)

    return wrapper


def case_or_404(request, pk) -> Case:
    try:
        return selectors.case_get(user=request.user, pk=pk)
    except DomainError:
        raise Http404("Dossier introuvable.") from None


def step_url(case, step) -> str:
    return reverse("web:intake-step", args=[case.pk, step])


def tracking_url(case, anchor: str = "") -> str:
    """The follow-up page of the dossier, at ``#anchor`` if given."""
    url = reverse("web:case-porteur", args=[case.pk])
    return f"{url}#{anchor}" if anchor else url


# ---------------------------------------------------------------- errors


def domain_errors(exc: DomainError, form=None, fields=()) -> list[str]:
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


def refusal_summary(exc: DomainError, form=None, fields=()) -> list[tuple[str, str]]:
    """The error summary of a save the service refused: the messages about ``fields`` go
    next to them in ``form``, the others (or the refusal itself) after the form's."""
    rest = domain_errors(exc, form, fields)
    return error_summary(form) + [("", m) for m in (rest or ([] if exc.errors else [exc.message]))]


# ---------------------------------------------------------------- reads shared by the pages


def required_documents(case) -> list[rules.RequiredDocument]:
    """The required pieces of the schemes in the plan (``rules.required_documents``), each
    with ``scheme_names``: the schemes asking for it as people read them, not their codes."""
    schemes = [r.scheme for r in case.resources.all() if r.scheme_id]
    names = {s.code: scheme_label(s) for s in schemes}
    entries = rules.required_documents(schemes, case.documents.all())
    for entry in entries:
        entry.scheme_names = [names.get(code, code) for code in entry.schemes]
    return entries


def document_kinds(case) -> list[tuple[str, str]]:
    """The kinds a porteur may give a piece: the required ones, then « Autre pièce »."""
    return [(r.code, r.label) for r in required_documents(case)] + [("other", "Autre pièce")]


def party_label(party: str, funder=None) -> str:
    """Who has to act on a deadline, as the porteur reads it: the funder that decides
    (``cases.request_status.acting_funder``) when there is one, else the deadline's party."""
    if funder is not None:
        return request_status.funder_subject(funder)
    return {"porteur": "Vous", "agent": "L'agent référent du PETR"}.get(
        party, PARTY_LABELS.get(party, party)
    )


def claimable_requests(requests) -> list:
    """The requests that still take a payment claim (``request_status.accepts_claims``)."""
    return [fr for fr in requests if request_status.accepts_claims(fr)]


def action_target(request, case, target: str):
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
