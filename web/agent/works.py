"""The block of the agent's dossier page on the grants' works deadlines (revised rules 5
and 6): the missed ones with their two ways out (the funder records the lapse, or grants
an extension asked in time), the extensions with the funder's grant / refuse, the form
an agent fills to ask an extension for the porteur, the recovery orders with their
recover / cancel and the form of a new one on an overpaid request.

The forms are those of the engine's transitions (``action_form``) and of the services
(``cases.services.extension_request``, ``recovery_order_issue``); the posts go to
``web.agent.extensions``."""

from __future__ import annotations

from django.urls import reverse

from cases import payments
from cases.lifecycle.payment_claim import RECOVERABLE
from cases.models import User
from cases.permissions import allowed
from engine.transitions import available_transitions

from .. import works
from ..agent_forms import ExtensionForm, RecoveryForm, action_form

R = User.Role
#: The key of the agent's extension form on the page (``submitted["key"]``).
EXTENSION_KEY = "prorogation"


def recovery_key(fr) -> str:
    return f"reversement-{fr.pk}"


def _bind(user, submitted):
    def bind(instance, url_name: str) -> list:
        out = []
        for name in available_transitions(instance, user):
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

    return bind


def _may_act_on(user, fr) -> bool:
    if not allowed(user, "funder_act") or fr.state not in RECOVERABLE:
        return False
    return user.effective_role != R.FUNDER_INSTRUCTOR or user.funder_id == fr.scheme.funder_id


def issuable_overpaid(user, requests) -> dict:
    """The form of a recovery order is offered to the request's funder (the engine checks
    it again) while something was paid beyond the amount finally due: ``{pk: overpaid}``
    of the requests it is offered on (``cases.payments.overpaid_by_request``)."""
    candidates = [fr for fr in requests if _may_act_on(user, fr)]
    excess = payments.overpaid_by_request(candidates) if candidates else {}
    return {pk: amount for pk, amount in excess.items() if amount > 0}


def may_issue(user, fr) -> bool:
    return fr.pk in issuable_overpaid(user, [fr])


def works_block(
    user, case, requests, submitted: dict, today, simple_form, extensions=None, orders=None
) -> dict:
    """The rows of the block (``web.works.works_rows``) with their action forms;
    ``simple_form(form_class, key, submitted, **kw)`` binds a plain form as typed;
    ``extensions``, ``orders``: the dossier's, as the page already read them."""
    bind = _bind(user, submitted)
    overpaid = issuable_overpaid(user, requests)
    if extensions is None:
        extensions = works.case_extensions(case)
    if orders is None:
        orders = works.case_orders(case)
    rows = works.works_rows(requests, extensions, orders, also=set(overpaid))
    every = []
    for row in rows:
        fr = row["fr"]
        fr.missed_works = row["missed"]  # the badge of the requests table
        row["extension_rows"] = [
            {"extension": e, "actions": bind(e, "web:extension-transition")}
            for e in row["extensions"]
        ]
        row["order_rows"] = [
            {"order": o, "actions": bind(o, "web:recovery-transition")} for o in row["orders"]
        ]
        row["lapse"] = row["missed"] is not None and "lapse" in available_transitions(fr, user)
        if fr.pk in overpaid:
            row["overpaid"] = overpaid[fr.pk]
            row["recovery_form"] = simple_form(RecoveryForm, recovery_key(fr), submitted)
        every += [a for r in row["extension_rows"] + row["order_rows"] for a in r["actions"]]
    targets = works.extension_targets(requests, today)
    extension_form = None
    if targets and allowed(user, "extension_request") and user.effective_role != R.PORTEUR:
        extension_form = simple_form(ExtensionForm, EXTENSION_KEY, submitted, targets=targets)
    return {
        "works": rows,
        "staff_extension_form": extension_form,
        "works_failed": next((a for a in every if a.error), None),
    }
