"""The follow-up page of one dossier: where it stands and who acts next, its history and
deadlines, its funding requests and payment claims, its pieces, the messages with the
agent, the alerts. The forms posted from it (``actions``, ``documents``) come back here,
with what was typed, when they are refused."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases import request_status, selectors
from cases.models import CLAIM_UNPAID, REQUEST_GRANTED, Case, CaseState
from cases.payments import DelayBook, project_claim, request_amount_due
from engine.models import Deadline
from engine.transitions import available_transitions, spec_of, state_of
from notifications.alert_selectors import alert_list
from notifications.labels import deadline_label, when_label
from notifications.models import Alert

from .. import porteur_forms as pf
from .. import works
from ..correction_blocks import porteur_block, with_porteur_history
from .common import (
    case_or_404,
    claimable_requests,
    document_kinds,
    party_label,
    porteur_required,
    step_url,
)


@porteur_required
@require_GET
def case_porteur(request, pk: int):
    return tracking_page(request, case_or_404(request, pk))


def tracking_page(request, case, *, status=200, errors=(), **forms):
    """The page; ``forms``: the refused form (``action_form``, ``claim_form``,
    ``document_form``, ``message_form`` or ``extension_form``), shown as typed with its
    ``errors``, which the page shows at that form (``failed``); ``balance_preview``: the
    balance an actual cost gives."""
    user = request.user
    today = timezone.localdate()
    requests = list(case.funding_requests.all())
    extensions, orders = works.case_extensions(case), works.case_orders(case)
    claims = list(
        selectors.claim_list(user=user)
        .filter(funding_request__case_id=case.pk)
        .select_related("funding_request__case", "funding_request__scheme")
        .order_by("id")
    )
    context = {
        "nav": "my-cases",
        "case": case,
        "badge": state_of(Case, case.state).badge,
        "status_line": request_status.status_line(requests),
        "next_step": request_status.porteur_banner(
            case, requests, state_of(Case, case.state).porteur
        ),
        "history": _history(case, requests, claims, extensions, orders),
        **_deadlines(case, today, {fr.pk: fr for fr in requests}),
        "referent": case.referent_agent,
        **_funding(user, requests, claims, today, forms.get("claim_form")),
        **_works(requests, extensions, orders, today, forms.get("extension_form")),
        "balance_preview": forms.get("balance_preview"),
        "case_actions": _case_actions(case, user, forms.get("action_form")),
        "action_form": forms.get("action_form"),
        **_documents(user, case, forms.get("document_form")),
        **_messages(user, case, forms.get("message_form")),
        **porteur_block(user, case, forms.get("correction_form")),
        "alerts": _alerts(user, case),
        "errors": list(errors),
        "failed": _failed(forms) if errors else "",
        "can_edit": case.state == CaseState.DRAFT,
        "edit_url": step_url(case, "projet"),
    }
    return render(request, "web/porteur/case.html", context, status=status)


# ---------------------------------------------------------------- the blocks of the page


def _history(case, requests, claims, extensions, orders) -> list[dict]:
    by_request = {fr.pk: fr for fr in requests}
    by_claim = {c.pk: c for c in claims}
    by_extension, by_order = {e.pk: e for e in extensions}, {o.pk: o for o in orders}
    items = []
    for log in selectors.case_history(case):
        model = log.content_type.model
        oid = int(log.object_id)
        what = spec_of(log.content_type.model_class(), log.transition).event
        subject = works.log_subject(log, by_extension, by_order)
        if subject is not None:
            text = f"{subject} : {what}"
        elif model == "case":
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
            {
                "at": log.timestamp,
                "text": text,
                "who": who,
                "comment": log.description or "",
                "extension": oid if model == "extension" else None,
            }
        )
    return with_porteur_history(works.with_requests(items, extensions, _asked), case)


def _asked(extension) -> dict:
    """The history item of an extension's request (its creation is not a transition)."""
    who = extension.requested_by
    return {
        "at": extension.requested_at,
        "text": f"Prorogation ({works.kind_label(extension.deadline)}) "
        f"{extension.funding_request.scheme.code} : demandée jusqu'au "
        f"{extension.until:%d/%m/%Y}",
        "who": (who.get_full_name() or who.username) if who else "",
        "comment": extension.reason,
    }


def _works(requests, extensions, orders, today, extension_form) -> dict:
    """The works deadlines of the grants, their extensions, the form to ask one (when a
    deadline may still be moved) and the recovery orders."""
    targets = works.extension_targets(requests, today)
    form = extension_form or (
        pf.ExtensionForm(targets=targets, auto_id="id_ext_%s") if targets else None
    )
    for extension in extensions:
        extension.porteur_text = works.extension_state_text(extension)
    for order in orders:
        order.porteur_text = works.recovery_state_text(order)
    return {
        "works": works.works_rows(requests, extensions, orders),
        "extension_form": form,
        "orders": orders,
    }


def _failed(forms) -> str:
    """Where the refused form sits on the page, for its error summary to be shown there:
    ``claim``, ``document``, ``message``, ``extension``, or the action's place (``claims``
    for a payment claim's, ``requests`` for a funding request's, ``case`` otherwise)."""
    for name in ("claim", "document", "message", "extension"):
        if forms.get(f"{name}_form") is not None:
            return name
    action = forms.get("action_form")
    target = (action.data.get("target") or "") if action is not None else ""
    return {"claim": "claims", "request": "requests"}.get(target.partition(":")[0], "case")


def _deadlines(case, today, requests) -> dict:
    """Every deadline of the dossier, and the open ones with who acts (the funder that
    decides on a request: ``request_status.acting_funder``) and when."""
    deadlines = list(selectors.case_deadlines(case))
    rows = []
    for d in deadlines:
        fr = request_status.deadline_request(d, requests)
        funder = request_status.acting_funder(d.kind, fr)
        rows.append(
            {
                "deadline": d,
                "label": deadline_label(d.kind),
                "about": f"demande {request_status.request_name(fr)}" if fr else "",
                "party": party_label(d.party, funder),
                "mine": d.party == "porteur" and funder is None,
                "when": when_label((d.due_on - today).days),
            }
        )
    return {
        "deadlines": rows,
        "open_deadlines": [r for r in rows if r["deadline"].state == Deadline.State.OPEN],
    }


def _case_action(name: str) -> dict:
    """A transition the porteur triggers from the follow-up page, as its descriptor says."""
    spec = spec_of(Case, name)
    return {
        "label": spec.label,
        "fields": tuple(f.name for f in spec.fields),
        "danger": spec.danger,
    }


def _case_actions(case, user, bound) -> list[dict]:
    """The porteur's transitions of the dossier, each with its form (``bound`` if it is
    the one that was refused)."""
    actions = []
    for name in available_transitions(case, user):
        if not spec_of(Case, name).porteur_action:
            continue
        form = (
            bound
            if bound is not None
            and bound.data.get("transition") == name
            and not bound.data.get("target")
            else pf.TransitionForm(initial={"transition": name}, auto_id=f"id_{name}_%s")
        )
        actions.append({"name": name, "form": form, **_case_action(name)})
    return actions


def _funding(user, requests, claims, today, claim_form) -> dict:
    """The funding requests, their payments and the form of a new payment claim."""
    request_actions = {
        fr.pk: [n for n in available_transitions(fr, user) if n == "withdraw"] for fr in requests
    }
    claim_actions = {
        c.pk: [n for n in available_transitions(c, user) if n in ("file", "withdraw")]
        for c in claims
    }
    committed = claimable_requests(requests)
    return {
        "requests": requests,
        "payments": _payments(requests, claims, today, claim_actions, committed),
        "request_rows": [
            {
                "fr": fr,
                "actions": request_actions[fr.pk],
                "waiting": request_status.awaiting_decision(fr),
            }
            for fr in requests
        ],
        "claim_form": claim_form
        or (pf.ClaimForm(requests=committed, auto_id="id_claim_%s") if committed else None),
    }


def _payments(requests, claims, today, claim_actions, claimable) -> dict:
    """Per request: granted, paid, what remains, its claims with their projected payment
    date (``cases.payments``); and the totals paid and expected."""
    delays = DelayBook(today)
    rows = []
    for fr in requests:
        granted = fr.amount_granted if fr.state in REQUEST_GRANTED else None
        claim_rows = []
        for c in (c for c in claims if c.funding_request_id == fr.pk):
            projected = None
            due = request_amount_due(fr, balance=c) if c.actual_cost is not None else None
            if c.state in CLAIM_UNPAID:
                p = project_claim(c, today, delays(fr.scheme))
                projected = {"on": p.projected_on, "late": p.expected_passed}
            claim_rows.append(
                {
                    "claim": c,
                    "projected": projected,
                    "due": due,
                    "actions": claim_actions.get(c.pk, []),
                }
            )
        rows.append(
            {
                "request": fr,
                "granted": granted,
                "remaining": (granted - fr.amount_paid) if granted is not None else None,
                "claims": claim_rows,
                "can_claim": fr in claimable,
            }
        )
    return {
        "rows": rows,
        "paid": sum((fr.amount_paid for fr in requests), Decimal(0)),
        "expected": sum((r["remaining"] for r in rows if r["remaining"] is not None), Decimal(0)),
    }


def _documents(user, case, document_form) -> dict:
    return {
        "documents": list(
            selectors.document_list(user=user, case=case).select_related("uploaded_by")
        ),
        "document_form": document_form
        or pf.DocumentForm(kind_choices=document_kinds(case), auto_id="id_doc_%s"),
        "can_upload": not case.is_terminal,
        "can_provide": "provide_documents" in available_transitions(case, user),
    }


def _messages(user, case, message_form) -> dict:
    return {
        "thread": list(selectors.message_list(user=user, case=case)),
        "message_form": message_form or pf.MessageForm(auto_id="id_msg_%s"),
    }


def _alerts(user, case) -> list:
    """The live alerts of the dossier, and of its organisation when they name no dossier."""
    return list(
        alert_list(user=user)
        .filter(state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED])
        .filter(Q(case_id=case.pk) | Q(case__isnull=True, organisation_id=case.organisation_id))
    )
