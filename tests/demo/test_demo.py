"""The demo data: a lifecycle in every state, built through the services and the engine."""

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.utils import timezone
from django_fsm_log.models import StateLog

from cases import rules
from cases.demo import PASSWORD, commune_siren, tiny_pdf
from cases.models import (
    Case,
    CommitteeDecision,
    CommitteeSession,
    Document,
    FundingRequest,
    Organisation,
    Payment,
    PaymentClaim,
    User,
)
from cases.siren import siren_valid

pytestmark = pytest.mark.django_db

MAIN_PATH = [
    "idea",
    "scoping",
    "draft",
    "submitted",
    "incomplete",
    "instruction",
    "decided",
    "in_progress",
    "completed",
    "closed",
]
NOT_SUBMITTED = {"idea", "scoping", "draft"}


def counts():
    return {
        "users": User.objects.count(),
        "organisations": Organisation.objects.count(),
        "cases": Case.objects.count(),
        "requests": FundingRequest.objects.count(),
        "claims": PaymentClaim.objects.count(),
        "payments": Payment.objects.count(),
        "documents": Document.objects.count(),
        "sessions": CommitteeSession.objects.count(),
        "logs": StateLog.objects.count(),
    }


def event_dates():
    for case in Case.objects.all():
        for name in ("receipt_date", "complete_on", "works_start_date", "works_end_date"):
            yield f"{case.reference}.{name}", getattr(case, name)
    for fr in FundingRequest.objects.all():
        yield f"request {fr.pk}.granted_on", fr.granted_on
        yield f"request {fr.pk}.committed_on", fr.committed_on
    for claim in PaymentClaim.objects.all():
        for name in ("filed_on", "verified_on", "paid_on", "awaiting_since"):
            yield f"claim {claim.pk}.{name}", getattr(claim, name)
    for payment in Payment.objects.all():
        yield f"payment {payment.pk}", payment.paid_on
    for session in CommitteeSession.objects.filter(state="closed"):
        yield f"session {session.pk}", session.date


def test_helpers():
    assert commune_siren("81060") == "218106003"  # Carmaux's real SIREN
    pdf = tiny_pdf("Délibération (test)", ["ligne 1"])
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


def test_load_demo_builds_every_state_and_is_idempotent():
    out = StringIO()
    call_command("load_demo", stdout=out)
    today = timezone.localdate()

    # -- one dossier at least in each state of the main path, and the terminal ones
    states = Counter(Case.objects.values_list("state", flat=True))
    for state in [*MAIN_PATH, "rejected", "withdrawn", "lapsed"]:
        assert states[state] >= 1, (state, states)
    assert sum(states.values()) >= 72

    # -- users: one per role, agents attached to an EPCI, a valid committee
    roles = Counter(User.objects.values_list("role", flat=True))
    for role in User.Role.values:
        assert roles[role] >= 1, role
    assert User.objects.filter(is_superuser=True, username="admin").exists()
    assert User.objects.filter(role="agent", epci__isnull=False).count() >= 2
    assert not User.objects.filter(role="agent", epci__isnull=True).exists()
    validate_password(PASSWORD, User(username="agent.carmausin"))
    assert User.objects.get(username="mairie.carmaux").check_password(PASSWORD)
    members = User.objects.filter(role="committee_member")
    assert {m.college for m in members} == {"public", "private"}
    assert {"autorités publiques", "agriculture", "associations", "entreprises", "tourisme"} <= {
        m.interest_group for m in members
    }
    assert set(
        User.objects.filter(role="funder_instructor").values_list("funder__code", flat=True)
    ) >= {
        "ETAT",
        "REGION_OCC",
        "DEPT_TARN",
        "UE",
    }
    for org in Organisation.objects.exclude(siren=None):
        assert siren_valid(org.siren), org
    assert Organisation.objects.filter(kind="association").exists()

    # -- every dossier past the draft has a financing plan that passes the rules
    for case in Case.objects.exclude(receipt_date=None).select_related("organisation"):
        expenses, resources = rules.lines_from_rows(
            case.expenses.all(), case.resources.select_related("scheme")
        )
        summary = rules.check_plan(
            expenses,
            resources,
            owner_kind=case.organisation.kind,
            legal_case=case.own_share_case,
            tax_basis=case.tax_basis,
        )
        assert summary.valid, (case.reference, rules.plan_messages(summary))
    assert (
        not Case.objects.exclude(state__in=NOT_SUBMITTED | {"withdrawn"})
        .filter(receipt_date=None)
        .exists()
    )
    assert set(FundingRequest.objects.values_list("scheme__code", flat=True)) >= {
        "DETR",
        "DSIL",
        "LEADER",
        "DEPT_TARN",
    }

    # -- event dates: in the past, from 2024 on, in order
    for where, day in event_dates():
        if day is None:
            continue
        assert day <= today, (where, day)
        assert day >= dt.date(2024, 1, 1) or day >= today - dt.timedelta(days=3 * 366), where
    for case in Case.objects.exclude(receipt_date=None):
        chain = [case.receipt_date, case.complete_on, case.works_start_date, case.works_end_date]
        chain = [d for d in chain if d]
        assert chain == sorted(chain), case.reference
        for fr in case.funding_requests.all():
            if fr.granted_on:
                assert case.receipt_date <= fr.granted_on
            if fr.committed_on:
                assert fr.granted_on <= fr.committed_on

    # -- documents are PDFs; the submitted dossiers carry their schemes' required pieces
    for doc in Document.objects.all()[:20]:
        with doc.file.open("rb") as fh:
            assert fh.read(5) == b"%PDF-"
    for case in Case.objects.exclude(receipt_date=None):
        kinds = set(case.documents.values_list("kind", flat=True))
        for fr in case.funding_requests.select_related("scheme"):
            assert set(fr.scheme.required_document_codes()) <= kinds, case.reference

    # -- LEADER through the committee: a closed session selected a project, one is planned
    closed = CommitteeSession.objects.get(state="closed")
    assert closed.date <= today and closed.votes.exists()
    outcomes = Counter(closed.decisions.values_list("outcome", flat=True))
    assert outcomes["selected"] >= 1 and outcomes["adjourned"] >= 1 and outcomes["rejected"] >= 1
    selected = CommitteeDecision.objects.filter(session=closed, outcome="selected")
    assert FundingRequest.objects.filter(
        pk__in=selected.values("funding_request"), state__in=["granted", "committed", "paying"]
    ).exists()
    assert closed.votes.exclude(scores={}).count() == closed.votes.count()
    planned = CommitteeSession.objects.get(state="planned")
    assert planned.agenda.count() >= 1
    assert not planned.agenda.exclude(state="awaiting_committee").exists()

    # -- payments: recorded, consistent with the claims and the requests
    assert Payment.objects.count() >= 10
    for claim in PaymentClaim.objects.filter(state="paid"):
        assert claim.payments.get().amount == claim.paid_amount
    for fr in FundingRequest.objects.filter(state="paid"):
        assert fr.amount_paid == fr.amount_granted
    assert PaymentClaim.objects.filter(state="awaiting_cofinancers").exists()
    for case in Case.objects.filter(state="closed"):
        assert not case.funding_requests.exclude(
            state__in=["paid", "refused", "withdrawn"]
        ).exists()

    # -- every state change is logged by the transition service
    assert StateLog.objects.count() >= Case.objects.exclude(state="idea").count()

    # -- a second run changes nothing
    before = counts()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "déjà chargées" in out.getvalue()
    assert counts() == before
