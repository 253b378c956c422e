"""Revised rule 12 on the committee pages: a member's declaration of interest on an agenda
item (by the member, or for them by the PETR's staff), and the substitutes page (the
committee's titular members and the substitute named for each). The rules are
``cases.committee_declarations``'; this module reads the forms and shows the answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cases import committee_declarations, selectors
from cases.models import CommitteeSubstitute
from cases.permissions import allowed
from engine import inputs
from engine.errors import DomainError

from .common import (
    RESERVED,
    committee_members,
    forbidden,
    member_group,
    member_name,
    session_or_404,
)


@login_required
@require_POST
def conflict_post(request, pk: int):
    user = request.user
    if not selectors.session_readable(user):
        return forbidden(request, "Votre rôle ne permet pas de déclarer un conflit d'intérêts.")
    try:
        session = session_or_404(request, pk)
    except DomainError as exc:
        return forbidden(request, exc.message, status=404)
    fr_id = inputs.read_id(request.POST.get("funding_request", ""))
    raw_member = request.POST.get("member", "")
    member_id = inputs.read_id(raw_member)
    if (raw_member and member_id is None) or (not raw_member and allowed(user, "vote_for_member")):
        return forbidden(request, "Choisissez le membre qui déclare le conflit d'intérêts.", 400)
    try:
        declaration = committee_declarations.conflict_declare(
            actor=user,
            session=session,
            funding_request_id=fr_id,
            member_id=member_id,
            reason=request.POST.get("reason", "")[:2000],
        )
    except DomainError as exc:
        return forbidden(request, exc.message, status=exc.status)
    messages.success(
        request,
        f"Conflit d'intérêts de {member_name(declaration.member)} enregistré sur "
        f"« {declaration.funding_request.case.title} » : il ne prend pas part à ce point.",
    )
    url = reverse("web:committee-session", args=[session.pk])
    return redirect(f"{url}#point-{declaration.funding_request_id}")


@login_required
@require_http_methods(["GET", "POST"])
def substitutes(request):
    """The committee's members and their substitutes; the PETR's staff name them."""
    user = request.user
    if not selectors.session_readable(user):
        return forbidden(request, RESERVED)
    may_name = allowed(user, "session_create")
    errors, status = {}, 200
    if request.method == "POST":
        if not may_name:
            return forbidden(request, "Seuls les agents du PETR désignent les suppléants.")
        try:
            link = committee_declarations.substitute_name(
                actor=user,
                titular_id=request.POST.get("titular", "")[:20],
                substitute_id=request.POST.get("substitute", "")[:20],
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                return forbidden(request, exc.message)
            errors = {"message": exc.message, **{k: " ".join(v) for k, v in exc.errors.items()}}
            status = exc.status
        else:
            messages.success(
                request,
                f"{member_name(link.substitute)} est désigné suppléant de "
                f"{member_name(link.titular)}.",
            )
            return redirect("web:committee-substitutes")
    people = list(committee_members(user))
    links = {
        link.titular_id: link.substitute
        for link in CommitteeSubstitute.objects.filter(titular__in=people).select_related(
            "substitute"
        )
    }
    substitutes = {s.pk for s in links.values()}
    rows = [
        {
            "name": member_name(m),
            "group": member_group(m),
            "college": m.get_college_display(),
            "substitute": member_name(links[m.pk]) if m.pk in links else "",
        }
        for m in people
        if m.pk not in substitutes
    ]
    options = [{"pk": m.pk, "name": member_name(m), "group": member_group(m)} for m in people]
    context = {
        "nav": "committee",
        "rows": rows,
        "options": options,
        "may_name": may_name,
        "errors": errors,
    }
    return render(request, "web/committee/substitutes.html", context, status=status)
