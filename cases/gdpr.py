"""Right of access and portability (RGPD art. 15 and 20): a porteur's own data, as JSON.

``personal_data_export(user=)`` returns the account and, for a porteur, its organisation and
every dossier of that organisation: financing plan, funding requests, payment claims and
payments, messages exchanged with the PETR (internal notes excluded), documents' metadata
(not their content: each file is downloadable on its own) and the state history. Everything
is read from the user's own organisation only; the caller adds the sections of the layers
above (notifications).
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from .models import Case, FundingRequest, Message, PaymentClaim, User
from .selectors import case_history

FORMAT_VERSION = 1


def _iso(value):
    return value.isoformat() if value is not None else None


def _money(value):
    return None if value is None else f"{value:.2f}"


def _account(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
    }


def _organisation(org) -> dict | None:
    if org is None:
        return None
    return {
        "id": org.pk,
        "name": org.name,
        "kind": org.kind,
        "siren": org.siren,
        "commune": org.commune_id,
        "epci": org.epci.siren if org.epci_id else None,
        "cash_limit": _money(org.cash_limit),
        "money_needed_by": _iso(org.money_needed_by),
    }


def _claim(claim: PaymentClaim) -> dict:
    return {
        "id": claim.pk,
        "kind": claim.kind,
        "state": claim.state,
        "amount": _money(claim.amount),
        "filed_on": _iso(claim.filed_on),
        "verified_on": _iso(claim.verified_on),
        "paid_amount": _money(claim.paid_amount),
        "paid_on": _iso(claim.paid_on),
        "motivation": claim.motivation,
        "payments": [
            {
                "id": p.pk,
                "scheme": p.scheme.code,
                "amount": _money(p.amount),
                "paid_on": _iso(p.paid_on),
            }
            for p in claim.payments.all()
        ],
    }


def _request(fr: FundingRequest) -> dict:
    return {
        "id": fr.pk,
        "scheme": fr.scheme.code,
        "state": fr.state,
        "amount_requested": _money(fr.amount_requested),
        "amount_granted": _money(fr.amount_granted),
        "amount_paid": _money(fr.amount_paid),
        "granted_on": _iso(fr.granted_on),
        "committed_on": _iso(fr.committed_on),
        "motivation": fr.motivation,
        "payment_claims": [_claim(c) for c in fr.claims.all()],
    }


def _plan(case: Case) -> dict:
    return {
        "expenses": [
            {
                "label": e.label,
                "amount": _money(e.amount),
                "tax": e.tax,
                "eligible": e.eligible,
            }
            for e in case.expenses.all()
        ],
        "resources": [
            {
                "kind": r.kind,
                "scheme": r.scheme.code if r.scheme_id else None,
                "label": r.label,
                "amount": _money(r.amount),
            }
            for r in case.resources.all()
        ],
    }


def _messages(case: Case) -> list[dict]:
    return [
        {
            "id": m.pk,
            "author": m.author.username,
            "body": m.body,
            "created_at": _iso(m.created_at),
        }
        for m in case.messages.all()  # prefetched: internal notes excluded
    ]


def _documents(case: Case) -> list[dict]:
    """Their metadata, not their content (each file is downloadable on its own)."""
    return [
        {
            "id": d.pk,
            "kind": d.kind,
            "label": d.label,
            "filename": d.filename,
            "size": d.size,
            "content_type": d.content_type,
            "sha256": d.sha256,
            "uploaded_at": _iso(d.uploaded_at),
        }
        for d in case.documents.all()
    ]


def _history(case: Case) -> list[dict]:
    return [
        {
            "transition": log.transition,
            "source": log.source_state,
            "target": log.state,
            "at": _iso(log.timestamp),
            "comment": log.description or "",
        }
        for log in case_history(case)
    ]


def _case(case: Case) -> dict:
    return {
        "id": case.pk,
        "reference": case.reference,
        "title": case.title,
        "description": case.description,
        "theme": case.theme,
        "state": case.state,
        "communes": [c.insee for c in case.communes.all()],
        "referent_agent": case.referent_agent.get_full_name() or case.referent_agent.username
        if case.referent_agent_id
        else None,
        "receipt_date": _iso(case.receipt_date),
        "works_start_date": _iso(case.works_start_date),
        "works_end_date": _iso(case.works_end_date),
        "withdraw_reason": case.withdraw_reason,
        "created_at": _iso(case.created_at),
        "financing_plan": _plan(case),
        "funding_requests": [_request(fr) for fr in case.funding_requests.all()],
        "messages": _messages(case),
        "documents": _documents(case),
        "history": _history(case),
    }


def organisation_cases(*, user: User):
    """The dossiers of the porteur's own organisation, with everything the export reads."""
    if user.effective_role != User.Role.PORTEUR or not user.organisation_id:
        return Case.objects.none()
    claims = PaymentClaim.objects.prefetch_related("payments__scheme").order_by("id")
    return (
        Case.objects.filter(organisation_id=user.organisation_id)
        .select_related("referent_agent")
        .prefetch_related(
            "communes",
            "expenses",
            "resources__scheme",
            Prefetch(
                "funding_requests",
                queryset=FundingRequest.objects.select_related("scheme").prefetch_related(
                    Prefetch("claims", queryset=claims)
                ),
            ),
            Prefetch(
                "messages",
                queryset=Message.objects.filter(internal=False).select_related("author"),
            ),
            "documents",
        )
        .order_by("id")
    )


def personal_data_export(*, user: User) -> dict:
    org = None
    if user.effective_role == User.Role.PORTEUR and user.organisation_id:
        org = user.organisation
    return {
        "format": "guichet-export",
        "version": FORMAT_VERSION,
        "exported_at": _iso(timezone.now()),
        "account": _account(user),
        "organisation": _organisation(org),
        "cases": [_case(case) for case in organisation_cases(user=user)],
    }
