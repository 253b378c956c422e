"""The funders' view (« conférence des financeurs »): every request awaiting a decision,
per funder, with amounts requested / granted / paid and per-scheme totals. A funder
instructor records its own funder's decisions, commitments and payments here; agents and
the director read everything.

The funding-request and payment-claim actions (also used from the dossier page) live
here: they go through ``engine.transitions.transition_apply`` (whose hook closes the agent
task an action completes, as for the API); the engine refuses another funder's request and
its French message is shown on the page.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases import selectors
from cases.envelopes import envelope_figures
from cases.lifecycle.payment_claim import RECOVERABLE
from cases.models import (
    REQUEST_GRANTED,
    REQUEST_UNDECIDED,
    CaseState,
    ClaimState,
    ExtensionState,
    FundingRequest,
    PaymentClaim,
    RecoveryOrder,
    RecoveryState,
    RequestState,
    User,
)
from cases.permissions import roles_for
from cases.works_deadlines import lapse_decisions_due
from engine.errors import DomainError
from engine.transitions import available_transitions, spec_of, transition_apply
from schemes.models import Funder

from . import works
from .agent.case_page import case_page, simple_form
from .agent.common import error_links, get_case_or_404, role, safe_next
from .agent.works import issuable_overpaid, recovery_key
from .agent_forms import (
    RecoveryForm,
    action_form,
    form_error,
    transition_input,
    transition_label,
    typed_input,
)

R = User.Role
FUNDERS_ROLES = roles_for("funders_page")
ACTING_ROLES = roles_for("funder_act")
# What a funder does on this page; the dossier page shows every available transition.
CLAIMS_TO_HANDLE = [ClaimState.FILED, ClaimState.AWAITING_COFINANCERS, ClaimState.VERIFIED]
ZERO = Decimal("0.00")


def _money_sum(expr, **filter_kw):
    return Coalesce(
        Sum(expr, **filter_kw),
        Value(ZERO),
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )


def _visible_requests(user):
    """The funding requests whose dossier the user may see (the engine then decides
    whether the user may act on each one)."""
    return FundingRequest.objects.filter(
        case__in=selectors.case_list(user=user).values("pk")
    ).select_related("case", "case__organisation", "scheme", "scheme__funder")


def _actions(instance, user, url_name, submitted):
    if role(user) not in ACTING_ROLES:
        return []
    out = []
    for name in available_transitions(instance, user):
        if R.FUNDER_INSTRUCTOR not in spec_of(type(instance), name).roles:
            continue  # the funders' page offers the funders' own actions
        key = f"{instance._meta.model_name}-{instance.pk}-{name}"
        out.append(
            action_form(
                instance,
                name,
                url=reverse(url_name, args=[instance.pk, name]),
                submitted=submitted if submitted.get("key") == key else None,
            )
        )
    return out


def funders_context(request, submitted: dict | None = None) -> dict:
    """Everything the page shows, block by block: the per-scheme totals, the requests
    awaiting a decision (by funder), those granted to commit, the claims to handle."""
    user = request.user
    submitted = submitted or {}
    requests, funders, funder_filter = _scope(request)
    awaiting = _awaiting(requests, user, submitted)
    to_commit = [
        {"fr": fr, "actions": _actions(fr, user, "web:request-transition", submitted)}
        for fr in to_commit_requests(requests)
    ]
    claim_rows = _claims(user, funder_filter, submitted)
    follow_up = works_follow_up(user, requests, funder_filter, submitted)
    failed = None
    for row in (
        [r for g in awaiting.values() for r in g["rows"]]
        + to_commit
        + claim_rows
        + follow_up["extensions_to_decide"]
        + follow_up["missed"]
        + follow_up["orders"]
    ):
        failed = failed or next((a for a in row["actions"] if a.error), None)
    today = timezone.localdate()
    envelopes = selectors.envelope_list(user=user).filter(year=today.year)
    if funder_filter is not None:
        envelopes = envelopes.filter(scheme__funder=funder_filter)
    return {
        "nav": "funders",
        "today": today,
        "envelope_year": today.year,
        "envelopes": envelope_figures(envelopes.order_by("scheme__code", "action_sheet__code")),
        **_totals(requests),
        "awaiting": awaiting,
        "to_commit": to_commit,
        "claims": claim_rows,
        **follow_up,
        "funders": funders,
        "funder_filter": funder_filter,
        "acting": role(user) in ACTING_ROLES,
        "own_funder": user.funder if role(user) == R.FUNDER_INSTRUCTOR else None,
        "failed": failed,
        "failed_links": error_links(failed) if failed else [],
    }


def _scope(request):
    return funder_scope(request.user, request.GET.get("financeur") or "")


def funder_scope(user, code: str):
    """The requests the user sees, narrowed to one funder (``?financeur=``) for whoever
    reads every funder; with the list of funders to choose from and the one chosen."""
    requests = selectors.funding_request_list(user=user).select_related(
        "scheme__funder", "case__epci"
    )
    if role(user) == R.FUNDER_INSTRUCTOR:
        return requests, [], None
    funders = list(Funder.objects.order_by("name"))
    funder_filter = next((f for f in funders if f.code == code), None)
    if funder_filter is not None:
        requests = requests.filter(scheme__funder=funder_filter)
    return requests, funders, funder_filter


def _totals(requests) -> dict:
    """Per scheme: requests, undecided ones, amounts requested, granted and paid; and the
    grand total."""
    totals = list(
        requests.exclude(state=RequestState.WITHDRAWN)
        .values("scheme__code", "scheme__name", "scheme__funder__name")
        .annotate(
            count=Count("pk"),
            undecided=Count("pk", filter=Q(state__in=REQUEST_UNDECIDED)),
            requested=_money_sum("amount_requested"),
            granted=_money_sum("amount_granted", filter=Q(state__in=REQUEST_GRANTED)),
            paid=_money_sum("amount_paid"),
        )
        .order_by("scheme__funder__name", "scheme__code")
    )
    grand = {
        key: sum((row[key] for row in totals), 0 if key in ("count", "undecided") else ZERO)
        for key in ("count", "undecided", "requested", "granted", "paid")
    }
    return {"totals": totals, "grand": grand}


def _awaiting(requests, user, submitted) -> OrderedDict:
    """The requests awaiting a decision of a live dossier, by funder, with their total."""
    awaiting = OrderedDict()
    for fr in awaiting_requests(requests):
        group = awaiting.setdefault(
            fr.scheme.funder.name, {"rows": [], "requested": ZERO, "funder": fr.scheme.funder}
        )
        group["rows"].append(
            {"fr": fr, "actions": _actions(fr, user, "web:request-transition", submitted)}
        )
        group["requested"] += fr.amount_requested
    return awaiting


def awaiting_requests(requests):
    """The requests awaiting a decision of a live dossier (the page's first list; the
    bulk page re-reads it for « all the requests of the list »)."""
    return (
        requests.filter(state__in=REQUEST_UNDECIDED)
        .exclude(case__state__in=[CaseState.WITHDRAWN, CaseState.REJECTED, CaseState.LAPSED])
        .order_by("scheme__funder__name", "scheme__code", "case__receipt_date", "pk")
    )


def to_commit_requests(requests):
    """The granted requests whose commitment is not signed yet (the page's second list)."""
    return requests.filter(state=RequestState.GRANTED).order_by("granted_on", "pk")


def _claims(user, funder_filter, submitted) -> list[dict]:
    """The payment claims a funder has to handle, oldest filed first."""
    claims = (
        selectors.claim_list(user=user)
        .filter(state__in=CLAIMS_TO_HANDLE)
        .select_related("funding_request__case__organisation", "funding_request__scheme__funder")
        .order_by("filed_on", "pk")
    )
    if funder_filter is not None:
        claims = claims.filter(funding_request__scheme__funder=funder_filter)
    return [
        {"claim": c, "actions": _actions(c, user, "web:claim-transition", submitted)}
        for c in claims
    ]


def works_follow_up(user, requests, funder_filter, submitted) -> dict:
    """Revised rules 5 and 6: the extensions awaiting the funder's decision, the grants
    whose works deadline was missed (lapse or extension), the overpaid requests (a new
    recovery order) and the recovery orders issued (recovered or cancelled)."""
    extensions = selectors.extension_list(user=user).filter(state=ExtensionState.REQUESTED)
    if funder_filter is not None:
        extensions = extensions.filter(funding_request__scheme__funder=funder_filter)
    missed = lapse_decisions_due(requests).order_by("due_on", "pk")
    by_pk = {fr.pk: fr for fr in requests.filter(pk__in=missed.values("subject_id"))}
    with_balance = requests.filter(
        state__in=RECOVERABLE, claims__kind="balance", claims__actual_cost__isnull=False
    ).distinct()
    excess = issuable_overpaid(user, with_balance)
    overpaid = [
        {
            "fr": fr,
            "overpaid": excess[fr.pk],
            "form": simple_form(RecoveryForm, recovery_key(fr), submitted),
        }
        for fr in with_balance
        if fr.pk in excess
    ]
    orders = RecoveryOrder.objects.filter(
        funding_request__in=requests.values("pk"), state=RecoveryState.ISSUED
    ).select_related("funding_request__case", "funding_request__scheme")
    return {
        "extensions_to_decide": [
            {"extension": e, "actions": _actions(e, user, "web:extension-transition", submitted)}
            for e in extensions.select_related("funding_request__case__organisation")
        ],
        "missed": [
            {
                "fr": by_pk[d.subject_id],
                "deadline": d,
                "label": works.kind_label(d.kind),
                # a granted request's lapse is offered with its commitment, above
                "actions": []
                if by_pk[d.subject_id].state == RequestState.GRANTED
                else [
                    a
                    for a in _actions(
                        by_pk[d.subject_id], user, "web:request-transition", submitted
                    )
                    if a.name == "lapse"
                ],
            }
            for d in missed
            if d.subject_id in by_pk
        ],
        "overpaid": overpaid,
        "orders": [
            {"order": o, "actions": _actions(o, user, "web:recovery-transition", submitted)}
            for o in orders
        ],
    }


def funders_page(request, submitted: dict | None = None, status: int = 200):
    return render(
        request, "web/funders/index.html", funders_context(request, submitted), status=status
    )


@login_required
def funders(request):
    if role(request.user) not in FUNDERS_ROLES:
        return redirect("web:home")
    return funders_page(request)


# ---------------------------------------------------------------- actions


def page_again(request, case_id: int, submitted: dict | None, status: int):
    """The page a refused form came from (the funders' page or the dossier page), with
    the French message and what was typed (``submitted``)."""
    if request.POST.get("from") == "funders":
        return funders_page(request, submitted, status=status)
    case = get_case_or_404(request.user, case_id)
    return case_page(request, case, submitted, status=status)


def done(request, case_id: int, message: str, anchor: str = ""):
    """After a successful post: back to the page the form came from."""
    messages.success(request, message)
    if request.POST.get("from") == "funders":
        return redirect(safe_next(request, reverse("web:funders")))
    default = reverse("web:case-detail", args=[case_id]) + (f"#{anchor}" if anchor else "")
    return redirect(safe_next(request, default))


def act(request, instance, name: str, case_id: int):
    """Perform ``name`` on a funding request, a claim, an extension or a recovery order;
    on failure, show the page the form came from with the French message and what was
    typed."""
    comment, data, values = transition_input(request.POST)
    try:
        transition_apply(
            instance=instance,
            name=name,
            actor=request.user,
            comment=comment,
            data=typed_input(data, instance, name),
        )
    except DomainError as exc:
        key = f"{instance._meta.model_name}-{instance.pk}-{name}"
        sub = {"key": key, **form_error(exc, values)}
        fresh = type(instance).objects.get(pk=instance.pk)
        if name not in available_transitions(fresh, request.user):
            messages.error(request, exc.message)
            sub = None
        return page_again(request, case_id, sub, exc.status)
    return done(request, case_id, f"« {transition_label(instance, name)} » : c'est enregistré.")


@login_required
@require_POST
def request_transition(request, pk: int, name: str):
    if role(request.user) == R.PORTEUR:
        raise Http404
    fr = _visible_requests(request.user).filter(pk=pk).first()
    if fr is None:
        raise Http404("Demande de financement introuvable.")
    return act(request, fr, name, fr.case_id)


@login_required
@require_POST
def claim_transition(request, pk: int, name: str):
    if role(request.user) == R.PORTEUR:
        raise Http404
    claim = (
        PaymentClaim.objects.filter(
            funding_request__case__in=selectors.case_list(user=request.user).values("pk")
        )
        .select_related("funding_request__scheme", "funding_request__case")
        .filter(pk=pk)
        .first()
    )
    if claim is None:
        raise Http404("Demande de paiement introuvable.")
    return act(request, claim, name, claim.funding_request.case_id)
