"""What the pages show of a grant's works deadlines, their extensions (prorogations) and
the recovery orders (ordres de reversement), domain.md revised rules 5 and 6: read here
once for the porteur's page, the agent's dossier page and the funders' page.

Nothing is decided here: the deadlines are those of ``cases.works_deadlines``, the
amounts those of ``cases.payments``; the writes go through ``cases.services`` and the
engine's transitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cases import payments
from cases.models import LIVE_GRANTS, Extension, RecoveryOrder
from cases.works_deadlines import WORKS_KINDS, latest_works_deadlines, missed_works_deadline
from engine.models import Deadline
from engine.transitions import spec_of, state_of

#: A deadline one may still ask to move (revised rule 5: asked before it passes).
LIVE = (Deadline.State.OPEN, Deadline.State.SUSPENDED)


def kind_label(kind: str) -> str:
    """« commencement des travaux », « achèvement des travaux »."""
    return Extension.Deadline(kind).label.lower()


def extension_targets(requests, today: dt.date) -> list[tuple[str, str]]:
    """The deadlines whose extension may still be asked: ``(\"<request>:<kind>\", label)``
    for each live grant's start-of-works or completion deadline not yet passed."""
    out = []
    live = [fr for fr in requests if fr.state in LIVE_GRANTS]
    latest = latest_works_deadlines(live, states=LIVE) if live else {}
    for fr in live:
        for kind in WORKS_KINDS:
            deadline = latest.get((fr.pk, kind))
            if deadline is not None and deadline.due_on >= today:
                out.append(
                    (
                        f"{fr.pk}:{kind}",
                        f"{fr.scheme.code} — {kind_label(kind)}, "
                        f"échéance actuelle le {deadline.due_on:%d/%m/%Y}",
                    )
                )
    return out


def _deadline_rows(fr, latest: dict) -> list[dict]:
    rows = []
    for kind in WORKS_KINDS:
        deadline = latest.get((fr.pk, kind))
        if deadline is not None:
            rows.append(
                {
                    "label": Extension.Deadline(kind).label,
                    "deadline": deadline,
                    "missed": deadline.state == Deadline.State.MISSED,
                }
            )
    return rows


def extension_state_text(extension: Extension) -> str:
    """The state of an extension in plain words, for the porteur."""
    return state_of(Extension, extension.state).porteur


def recovery_state_text(order: RecoveryOrder) -> str:
    return state_of(RecoveryOrder, order.state).porteur


def works_rows(requests, extensions, orders, also=frozenset()) -> list[dict]:
    """Per request with a live grant, an extension or a recovery order (or in ``also``,
    pks of requests the page needs anyway): its works deadlines (the latest of each kind,
    in any state), the missed one that lets the funder record the lapse, its extensions
    and its recovery orders."""
    rows = []
    live_ones = [fr for fr in requests if fr.state in LIVE_GRANTS]
    latest = latest_works_deadlines(live_ones) if live_ones else {}
    missed_ones = (
        latest_works_deadlines(live_ones, states=[Deadline.State.MISSED]) if live_ones else {}
    )
    for fr in requests:
        own_extensions = [e for e in extensions if e.funding_request_id == fr.pk]
        own_orders = [o for o in orders if o.funding_request_id == fr.pk]
        shown = fr.state in LIVE_GRANTS or own_extensions or own_orders or fr.pk in also
        if not shown:
            continue
        live = fr.state in LIVE_GRANTS
        missed = missed_works_deadline(fr, missed_ones) if live else None
        rows.append(
            {
                "fr": fr,
                "deadlines": _deadline_rows(fr, latest) if live else [],
                "missed": missed,
                "missed_label": kind_label(missed.kind) if missed else "",
                "pending_for_missed": [
                    e
                    for e in own_extensions
                    if missed and e.deadline == missed.kind and e.state == "requested"
                ],
                "extensions": own_extensions,
                "orders": own_orders,
            }
        )
    return rows


def balance_figures(fr, actual_cost: Decimal) -> dict:
    """The balance an actual eligible cost gives (``cases.payments.balance_figures``, after
    what advances and instalments already claimed), for the claim form."""
    from cases.lifecycle.payment_claim import room_for

    figures = payments.balance_figures(fr, actual_cost, room_for(fr).claimed)
    return {
        "fr": fr,
        "granted": figures.granted,
        "planned": figures.planned,
        "actual": figures.actual,
        "due": figures.due,
        "claimed": figures.claimed,
        "balance": figures.balance,
    }


# ---------------------------------------------------------------- history


def log_subject(log, extensions: dict, orders: dict) -> str | None:
    """The subject of a state log of an extension or a recovery order, in French (None
    for the other models, which each page names itself)."""
    model = log.content_type.model
    if model == "extension":
        extension = extensions.get(int(log.object_id))
        if extension is None:
            return "Prorogation"
        return (
            f"Prorogation ({kind_label(extension.deadline)}) "
            f"{extension.funding_request.scheme.code}"
        )
    if model == "recoveryorder":
        order = orders.get(int(log.object_id))
        if order is None:
            return "Ordre de reversement"
        return f"Ordre de reversement {order.funding_request.scheme.code}"
    return None


def log_event(log) -> str:
    """What a state log records, as its transition declares it (« prorogation accordée »)."""
    return spec_of(log.content_type.model_class(), log.transition).event


def with_requests(items: list[dict], extensions, entry) -> list[dict]:
    """The history ``items`` with the asking of each extension (not a transition: the
    extension is created asked) just before its decision, or at the end while pending.
    ``entry(extension)`` makes the item; each item names its ``extension`` (or None)."""
    asked = {e.pk: entry(e) for e in extensions}
    out = []
    for item in items:
        pk = item.get("extension")
        if pk in asked:
            out.append(asked.pop(pk))
        out.append(item)
    return out + list(asked.values())


def case_extensions(case) -> list[Extension]:
    return list(
        Extension.objects.filter(funding_request__case_id=case.pk)
        .select_related("funding_request__scheme", "requested_by", "decided_by")
        .order_by("id")
    )


def case_orders(case) -> list[RecoveryOrder]:
    return list(
        RecoveryOrder.objects.filter(funding_request__case_id=case.pk)
        .select_related("funding_request__scheme")
        .order_by("id")
    )
