"""What the agents and the funders post about the grants' works deadlines and the
recovery orders (revised rules 5 and 6), from the dossier page or the funders' page:

- an agent asks an extension for the porteur (``cases.services.extension_request``);
- the funder's instructor grants or refuses it (the transitions of
  ``cases.lifecycle.extension``: the engine refuses another funder's instructor);
- the funder's instructor issues a recovery order on an overpaid request
  (``cases.services.payments.recovery_order_issue``) and records it recovered or
  cancelled (``cases.lifecycle.payment_claim``).

The same services as the API; a refusal shows the page the form came from again, with
the French message next to what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import selectors, services
from cases.models import Extension, RecoveryOrder
from cases.permissions import allowed, require
from cases.rules import euros
from cases.services.payments import recovery_order_issue
from engine.errors import DomainError

from .. import works
from ..agent_forms import ExtensionForm, RecoveryForm
from ..funders import act, done, page_again
from .common import get_case_or_404, not_for_porteurs
from .works import EXTENSION_KEY, may_issue, recovery_key

#: The services' field names → the forms'.
EXTENSION_FIELDS = {"deadline": "target"}


def _visible(model, user, pk: int, what: str):
    """An extension or a recovery order on a dossier the user sees (404 otherwise; the
    engine then decides whether the user may act on it)."""
    obj = (
        model.objects.filter(
            funding_request__case__in=selectors.case_list(user=user).values("pk"), pk=pk
        )
        .select_related("funding_request__scheme", "funding_request__case")
        .first()
    )
    if obj is None:
        raise Http404(f"{what} introuvable.")
    return obj


def _refused(exc: DomainError, key: str, values: dict, fields: dict | None = None) -> dict:
    errors = {}
    for name, items in (exc.errors or {}).items():
        items = items if isinstance(items, list) else [items]
        errors.setdefault((fields or {}).get(name, name), []).extend(str(i) for i in items)
    return {"key": key, "values": values, "errors": errors, "message": exc.message}


def _forbidden(request, case_id: int, action: str):
    """A role the action is not for: the permission's French message, above the page."""
    try:
        require(request.user, action)
    except DomainError as exc:
        messages.error(request, exc.message)
        return page_again(request, case_id, None, exc.status)
    raise AssertionError(action)  # only called when ``allowed`` said no


def _invalid(form, key: str, values: dict) -> dict:
    errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
    return {"key": key, "values": values, "errors": errors, "message": ""}


@login_required
@require_POST
def case_extension(request, pk: int):
    """An agent asks, for the porteur, to move a works deadline of one of its grants."""
    not_for_porteurs(request)
    case = get_case_or_404(request.user, pk)
    if not allowed(request.user, "extension_request"):
        return _forbidden(request, case.pk, "extension_request")
    requests = list(case.funding_requests.all())
    targets = works.extension_targets(requests, timezone.localdate())
    form = ExtensionForm(request.POST, targets=targets)
    values = request.POST.dict()
    if not form.is_valid():
        return page_again(request, case.pk, _invalid(form, EXTENSION_KEY, values), 400)
    fr_pk = form.target_parts()[0]
    fr = next(fr for fr in requests if fr.pk == fr_pk)  # a target is one of the dossier's
    try:
        services.extension_request(actor=request.user, funding_request=fr, **form.to_data())
    except DomainError as exc:
        sub = _refused(exc, EXTENSION_KEY, values, EXTENSION_FIELDS)
        return page_again(request, case.pk, sub, exc.status)
    return done(request, case.pk, "Demande de prorogation enregistrée pour le porteur.", "travaux")


@login_required
@require_POST
def extension_transition(request, pk: int, name: str):
    not_for_porteurs(request)
    extension = _visible(Extension, request.user, pk, "Prorogation")
    return act(request, extension, name, extension.funding_request.case_id)


@login_required
@require_POST
def request_recovery(request, pk: int):
    """The funder's instructor issues a recovery order on an overpaid request."""
    not_for_porteurs(request)
    fr = (
        selectors.funding_request_list(user=request.user)
        .select_related("scheme")
        .filter(pk=pk)
        .first()
    )
    if fr is None:
        raise Http404("Demande de financement introuvable.")
    if not allowed(request.user, "funder_act"):
        return _forbidden(request, fr.case_id, "funder_act")
    key, values = recovery_key(fr), request.POST.dict()
    form = RecoveryForm(request.POST)
    if not form.is_valid():
        return page_again(request, fr.case_id, _invalid(form, key, values), 400)
    try:
        order = recovery_order_issue(actor=request.user, funding_request=fr, data=form.to_data())
    except DomainError as exc:
        if not may_issue(request.user, fr):  # the page will not show the form: say it above
            messages.error(request, exc.message)
            return page_again(request, fr.case_id, None, exc.status)
        return page_again(request, fr.case_id, _refused(exc, key, values), exc.status)
    return done(
        request,
        fr.case_id,
        f"Ordre de reversement de {euros(order.amount)} émis sur la demande {fr.scheme.code}.",
        "travaux",
    )


@login_required
@require_POST
def recovery_transition(request, pk: int, name: str):
    not_for_porteurs(request)
    order = _visible(RecoveryOrder, request.user, pk, "Ordre de reversement")
    return act(request, order, name, order.funding_request.case_id)
