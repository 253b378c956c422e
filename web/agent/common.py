"""What the agent pages share: the roles of the workspace, the dossier read through the
selectors, the links to the porteur's page and to a piece, the ``next`` of a form."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from cases import selectors
from cases.models import Case, User
from cases.permissions import roles_for
from engine.errors import DomainError

R = User.Role
WORKSPACE_ROLES = roles_for("workspace")
TASK_ROLES = roles_for("task_take")
MESSAGE_WRITERS = roles_for("message_to_porteur")  # EPCI partners: internal notes only


def role(user) -> str:
    return user.effective_role


def porteur_case_url(pk: int) -> str:
    return reverse("web:case-porteur", args=[pk])


def document_url(pk: int) -> str:
    return reverse("web:document-download", args=[pk])


def get_case_or_404(user, pk) -> Case:
    try:
        return selectors.case_get(user=user, pk=pk)
    except DomainError:
        raise Http404("Dossier introuvable.") from None


def not_for_porteurs(request) -> None:
    """A porteur posting to the agent's dossier page finds nothing there."""
    if role(request.user) == R.PORTEUR:
        raise Http404("Dossier introuvable.")


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or ""
    # A path of this site only: anything else (« 0 », « web:home ») would be read by
    # ``redirect`` as the name of a view, and an unknown name is a NoReverseMatch.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def error_links(form) -> list[dict]:
    """Links of the error summary of a failed action form: each field error to its field."""
    return [
        {"href": f"#{bf.id}", "text": f"{bf.label} : {err}"}
        for bf in form.fields
        for err in bf.errors
    ]
