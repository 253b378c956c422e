"""What the porteur asks from the follow-up page about its grants' works deadlines: an
extension (prorogation, revised rule 5), through the same service as the API
(``cases.services.extension_request``: the deadline must not have passed, the scheme's
limit holds). A refusal shows the page again with the French message and what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import services
from engine.errors import DomainError

from .. import porteur_forms as pf
from ..works import extension_targets
from .common import action_target, case_or_404, error_summary, porteur_required, tracking_url
from .tracking import tracking_page

#: The service's field names → the form's.
FIELDS = {"deadline": "target", "until": "until", "reason": "reason"}


def refusal(exc: DomainError, form) -> list[tuple[str, str]]:
    """The service's messages next to the fields they name; the main message first."""
    for key, items in (exc.errors or {}).items():
        name = FIELDS.get(key)
        for item in items if isinstance(items, list) else [items]:
            if name in form.fields:
                form.add_error(name, str(item))
    return [("", exc.message), *error_summary(form)]


@porteur_required
@require_POST
def case_extension(request, pk: int):
    case = case_or_404(request, pk)
    targets = extension_targets(case.funding_requests.all(), timezone.localdate())
    form = pf.ExtensionForm(request.POST, targets=targets, auto_id="id_ext_%s")
    if not form.is_valid():
        return tracking_page(
            request, case, status=400, errors=error_summary(form), extension_form=form
        )
    fr = action_target(request, case, f"request:{form.target_parts()[0]}")
    try:
        services.extension_request(actor=request.user, funding_request=fr, **form.to_data())
    except DomainError as exc:
        errors = refusal(exc, form)
        return tracking_page(request, case, status=exc.status, errors=errors, extension_form=form)
    messages.success(
        request,
        "Demande de prorogation envoyée au financeur : il vous répondra sur cette page.",
    )
    return redirect(tracking_url(case, "prorogations"))
