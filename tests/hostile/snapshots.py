"""Everything a refused input must leave untouched, as plain comparable values."""

from __future__ import annotations

from django_fsm_log.models import StateLog

from cases.models import Case
from engine.models import Deadline, OutboxEvent


def dossier(case_id: int) -> dict:
    case = Case.objects.get(pk=case_id)
    return {
        "case": (
            case.state,
            case.title,
            case.description,
            case.theme,
            case.epci_id,
            case.receipt_date,
            case.works_start_date,
            case.works_end_date,
            case.complete_on,
            case.updated_at,
        ),
        "communes": sorted(case.communes.values_list("insee", flat=True)),
        "expenses": list(
            case.expenses.order_by("position").values_list(
                "position", "label", "amount", "tax", "eligible"
            )
        ),
        "resources": list(
            case.resources.order_by("position").values_list(
                "position", "kind", "scheme_id", "label", "amount"
            )
        ),
        "requests": sorted(
            case.funding_requests.values_list(
                "id", "state", "amount_requested", "amount_granted", "granted_on", "committed_on"
            )
        ),
        "deadlines": sorted(
            Deadline.objects.filter(aggregate_id=case_id).values_list(
                "id", "kind", "state", "due_on"
            )
        ),
        "outbox": OutboxEvent.objects.filter(aggregate_id=case_id).count(),
        "statelogs": StateLog.objects.count(),
        "cases": Case.objects.count(),
    }


# ---------------------------------------------------------------- the whole database


def _tables() -> list:
    """Every table a write through the API or the pages may touch (reference data aside):
    dossiers and their lines, requests, claims, payments, votes, sessions (with their
    members and agenda), documents, organisations, users, tokens, opinions, messages,
    deadlines, events, history, notifications, alerts, agent tasks. (Failed logins are
    counted on purpose: django-axes' table is left out.)"""
    from rest_framework.authtoken.models import Token
    from viewflow.workflow.models import Process, Task

    from cases import models as m
    from engine.models import AccessLog
    from notifications.models import Alert, FeedToken, Notification, Reminder

    return [
        m.Case,
        m.Case.communes.through,
        m.ExpenseLine,
        m.ResourceLine,
        m.FundingRequest,
        m.PaymentClaim,
        m.Payment,
        m.Document,
        m.Opinion,
        m.Message,
        m.CommitteeSession,
        m.CommitteeSession.members.through,
        m.CommitteeSession.agenda.through,
        m.Vote,
        m.CommitteeDecision,
        m.Organisation,
        m.User,
        Token,
        Deadline,
        OutboxEvent,
        StateLog,
        AccessLog,
        Notification,
        Reminder,
        Alert,
        FeedToken,
        Process,
        Task,
    ]


def everything() -> dict:
    """Every row of every writable table, as plain values: equal before and after a
    refused request, or the refusal changed something."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values_list()) for model in _tables()
    }


def changes(before: dict, after: dict) -> list[str]:
    """What differs between two ``everything()`` snapshots, table by table (for messages)."""
    out = []
    for table, rows in after.items():
        old = before.get(table, [])
        if rows != old:
            added = [r for r in rows if r not in old]
            gone = [r for r in old if r not in rows]
            out.append(f"{table}: +{str(added)[:300]} -{str(gone)[:300]}")
    return out


def insane_values(snapshot: dict) -> list[str]:
    """Stored values no hostile input may leave behind, even in an accepted request: a
    date outside 2000–2099, money beyond its 12 digits, text with NUL or of a megabyte."""
    import datetime as dt
    from decimal import Decimal

    out = []
    for table, rows in snapshot.items():
        for row in rows:
            for value in row:
                bad = (
                    (
                        isinstance(value, dt.date)
                        and not isinstance(value, dt.datetime)
                        and not dt.date(2000, 1, 1) <= value <= dt.date(2099, 12, 31)
                    )
                    or (isinstance(value, Decimal) and abs(value) > Decimal("999999999999.99"))
                    or (isinstance(value, str) and ("\x00" in value or len(value) > 100_000))
                )
                if bad:
                    out.append(f"{table}: {str(value)[:80]!r} in row {str(row)[:200]}")
    return out
