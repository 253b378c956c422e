"""The demo data: a lifecycle in every state, built through the services and the engine."""

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django.utils.html import escape
from django_fsm_log.models import StateLog

from cases import committee, payments, rules
from cases.demo import PASSWORD, commune_siren, tiny_pdf
from cases.models import (
    Case,
    CommitteeDecision,
    CommitteeSession,
    Document,
    Extension,
    FundingRequest,
    Organisation,
    Payment,
    PaymentClaim,
    RecoveryOrder,
    User,
)
from cases.siren import siren_valid
from cases.works_deadlines import missed_works_deadline, works_deadline
from engine.calendar import period_end
from engine.models import Deadline

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    return tmp_path_factory.mktemp("demo") / "media"


@pytest.fixture(autouse=True)
def _media_root(settings, demo_media):
    """The module's tests read the documents of the one build (tests/conftest.py gives
    each test its own media directory)."""
    settings.MEDIA_ROOT = demo_media


@pytest.fixture(scope="module")
def demo_load(django_db_setup, django_db_blocker, demo_media):
    """The demo, built once for the tests of this module (one build keeps them fast) and
    rolled back after the last one."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=demo_media),
        transaction.atomic(),
    ):
        out = StringIO()
        call_command("load_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_load, db):
    return demo_load


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
        yield f"request {fr.pk}.received_on", fr.received_on
        yield f"request {fr.pk}.complete_on", fr.complete_on
        yield f"request {fr.pk}.granted_on", fr.granted_on
        yield f"request {fr.pk}.committed_on", fr.committed_on
    for claim in PaymentClaim.objects.all():
        for name in ("filed_on", "verified_on", "paid_on", "awaiting_since"):
            yield f"claim {claim.pk}.{name}", getattr(claim, name)
    for payment in Payment.objects.all():
        yield f"payment {payment.pk}", payment.paid_on
    for session in CommitteeSession.objects.filter(state="closed"):
        yield f"session {session.pk}", session.date
    for order in RecoveryOrder.objects.all():
        yield f"recovery {order.pk}.issued_on", order.issued_on
        yield f"recovery {order.pk}.recovered_on", order.recovered_on


def test_helpers():
    assert commune_siren("81060") == "218106003"  # Carmaux's real SIREN
    pdf = tiny_pdf("Délibération (test)", ["ligne 1"])
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


def test_demo_has_every_state_and_role(demo):
    assert "Démo chargée" in demo
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


def test_demo_plans_dates_and_documents(demo):
    today = timezone.localdate()
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


def test_demo_committee_and_payments(demo):
    today = timezone.localdate()
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
    planned = CommitteeSession.objects.get(state="planned", kind="meeting")
    assert planned.agenda.count() >= 1
    assert not planned.agenda.exclude(state="awaiting_committee").exists()

    # -- payments: recorded, consistent with the claims and the requests
    assert Payment.objects.count() >= 10
    for claim in PaymentClaim.objects.filter(state="paid"):
        # a nil balance (what was paid covers the amount finally due) has no payment
        assert sum(p.amount for p in claim.payments.all()) == claim.paid_amount
    for fr in FundingRequest.objects.filter(state="paid"):
        # paid in full: the amount finally due (the grant, or prorated to the actual cost)
        ordered_back = payments.recovery_ordered(fr)
        assert fr.amount_paid - ordered_back == payments.request_amount_due(fr), fr.pk
    assert PaymentClaim.objects.filter(state="awaiting_cofinancers").exists()
    for case in Case.objects.filter(state="closed"):
        assert not case.funding_requests.exclude(
            state__in=["paid", "refused", "withdrawn"]
        ).exists()

    # -- every state change is logged by the transition service
    assert StateLog.objects.count() >= Case.objects.exclude(state="idea").count()


def test_a_second_load_changes_nothing(demo):
    before = counts()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "déjà chargées" in out.getvalue()
    assert counts() == before


# ---------------------------------------------------------------- issue 11: each funder's
# own legal track (domain.md revised rules 1-12), shown by the demo


def _porteur_of(case: Case) -> User:
    return User.objects.filter(organisation=case.organisation, role="porteur").first()


def _pages(client, case: Case) -> tuple[str, str]:
    """The porteur's and the referent agent's pages of the dossier, both rendered."""
    client.force_login(_porteur_of(case))
    porteur = client.get(f"/mes-dossiers/{case.pk}/")
    assert porteur.status_code == 200, case.reference
    client.force_login(case.referent_agent)
    agent = client.get(f"/dossiers/{case.pk}/")
    assert agent.status_code == 200, case.reference
    return porteur.content.decode(), agent.content.decode()


def _history(obj, transition: str):
    return StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, transition=transition
    )


def test_the_prefecture_receives_its_requests_weeks_after_the_deposit(demo, client):
    today = timezone.localdate()
    state = FundingRequest.objects.filter(scheme__funder__is_state=True).select_related("case")
    received = [fr for fr in state.exclude(received_on=None)]
    assert len(received) >= 20
    for fr in received:
        # revised rule 1: its own receipt, eligibility start and completeness
        assert fr.received_on >= fr.case.receipt_date + dt.timedelta(days=14), fr.pk
        assert fr.received_on < today
        assert fr.eligibility_start == fr.received_on
        assert _history(fr, "acknowledge").get().by.username == "instr.etat"
        if fr.complete_on:
            assert fr.received_on <= fr.case.complete_on <= fr.complete_on
    # received while the desk has not checked the dossier yet
    assert state.filter(case__state="submitted", state="requested").exclude(received_on=None)
    instructing = [fr for fr in received if fr.state == "instructing"]
    assert instructing
    for fr in instructing:
        # revised rule 3: the implicit decision runs from the préfecture's completeness
        assert fr.complete_on > fr.case.complete_on
        assert fr.implicit_decision_on == period_end(fr.complete_on, months=2) > today
        assert _history(fr, "declare_complete").get().by.username == "instr.etat"
    fr = instructing[0]
    porteur, _ = _pages(client, fr.case)
    assert f"reçue le {fr.received_on:%d/%m/%Y}" in porteur


def test_a_start_of_works_deadline_extended_by_the_prefecture(demo, client):
    extension = Extension.objects.get(state="granted")
    fr = extension.funding_request
    assert extension.deadline == "works_start" and fr.scheme.code in ("DETR", "DSIL")
    assert extension.reason and extension.motivation
    assert extension.decided_by.username == "instr.etat"
    assert extension.decided_on == timezone.localdate()  # the services date it on recording
    assert extension.until == period_end(extension.due_on, months=12)
    # the deadline moved to the new date, still open; the grant runs on
    deadline = works_deadline(fr, "works_start")
    assert deadline.state == Deadline.State.OPEN and deadline.due_on == extension.until
    assert fr.state == "committed" and fr.case.state == "decided"
    porteur, agent = _pages(client, fr.case)
    assert "La prorogation est accordée" in porteur and escape(extension.motivation) in porteur
    assert "Prorogations" in agent


def test_a_lapse_recorded_by_the_funder(demo, client):
    lapsed = FundingRequest.objects.filter(state="lapsed", case__state="lapsed")
    assert lapsed.count() >= 3
    for fr in lapsed:
        log = _history(fr, "lapse").get()
        assert log.by.role == "funder_instructor" and "R2334-28" in fr.motivation
        assert missed_works_deadline(fr) is not None
    _pages(client, lapsed.first().case)


def test_balance_on_the_actual_cost_and_a_recovery_order(demo, client):
    balances = PaymentClaim.objects.filter(kind="balance").exclude(actual_cost=None)
    assert balances.count() >= 2
    for claim in balances:
        fr = claim.funding_request
        assert claim.state == "paid" and fr.state == "paid" and fr.case.state == "closed"
        due = payments.request_amount_due(fr)
        assert due < fr.amount_granted  # prorated to the actual eligible cost
    reduced = balances.filter(paid_amount__gt=0).first()
    assert reduced.funding_request.amount_paid == payments.request_amount_due(
        reduced.funding_request
    )
    order = RecoveryOrder.objects.get()
    fr = order.funding_request
    assert order.state == "recovered" and order.issued_on <= order.recovered_on
    assert order.amount == fr.amount_paid - payments.request_amount_due(fr) > 0
    assert fr.claims.get(kind="balance").paid_amount == 0  # a nil balance, settled
    porteur, agent = _pages(client, fr.case)
    assert "Ordres de reversement" in porteur and "Ordres de reversement" in agent


def test_a_conflict_of_interest_at_the_committee_meeting(demo, client):
    session = CommitteeSession.objects.get(state="closed")
    declaration = session.declarations.get()
    member, fr = declaration.member, declaration.funding_request
    assert "Carmaux" in fr.case.title and declaration.reason
    # left out of that item: no vote, not counted in its quorum; votes on the others
    assert not session.votes.filter(funding_request=fr, member=member).exists()
    assert session.votes.filter(member=member).count() == session.agenda.count() - 1
    decision = session.decisions.get(funding_request=fr)
    assert decision.valid and decision.present == session.members.count() - 1
    assert decision.votes_for + decision.votes_against + decision.votes_abstain == 8
    client.force_login(User.objects.get(username="agent.cordais"))
    page = client.get(f"/comite/seances/{session.pk}/").content.decode()
    assert "ne prend pas part à ce point" in page and escape(declaration.reason) in page
    # members are named by their names, never by their login ids (issue 12, point 5)
    assert member.get_full_name() and escape(member.get_full_name()) in page
    assert member.username not in page.replace(f"{member.username}@", "")


def test_a_written_consultation_with_a_declared_interest(demo, client):
    session = CommitteeSession.objects.get(kind="written")
    today = timezone.localdate()
    assert session.state == "planned" and session.date < today < session.closes_on
    assert session.members.count() == User.objects.filter(role="committee_member").count()
    assert session.agenda.count() == 2
    declaration = session.declarations.get()
    member, fr = declaration.member, declaration.funding_request
    assert not session.votes.filter(funding_request=fr, member=member).exists()
    assert session.votes.filter(member=member).exists()  # replied on the other item
    item = next(i for i in committee.session_outcomes(session).items if i.funding_request == fr)
    assert item.conflicted == [member.pk]
    assert item.present == session.votes.filter(funding_request=fr).count() >= 6
    client.force_login(User.objects.get(username="agent.cordais"))
    page = client.get(f"/comite/seances/{session.pk}/").content.decode()
    assert "Consultation écrite" in page and f"{session.closes_on:%d/%m/%Y}" in page
    for case in Case.objects.filter(funding_requests__in=session.agenda.all()):
        _pages(client, case)


def test_demo_treasuries_show_a_forecast(demo, client):
    """Issue 13: the communes with a live operation declared their cash; the territory's
    ranking and a commune's « Ma trésorerie » show figures."""
    from cases.models import Organisation
    from cases.treasury import treasury_forecast

    declared = Organisation.objects.filter(cash_at_hand__isnull=False, kind="commune")
    assert declared.exists()
    org = declared.order_by("pk").first()
    forecast = treasury_forecast(org)
    assert forecast.cash_at_hand is not None and len(forecast.months) == 24
    assert any(m.outflows or m.inflows_p50 for m in forecast.months)
    porteur = User.objects.filter(organisation=org, role=User.Role.PORTEUR).first()
    client.force_login(porteur)
    assert client.get("/ma-tresorerie/").status_code == 200
    client.force_login(User.objects.get(username="agent.carmausin"))
    page = client.get("/tresorerie/")
    assert page.status_code == 200 and org.name in page.content.decode()


def test_demo_envelopes_show_the_credits(demo, client):
    """Issue 14: envelopes of the year for the active schemes, on the funders' page."""
    from django.utils import timezone

    from schemes.models import Envelope

    year = timezone.localdate().year
    assert Envelope.objects.filter(year=year, scheme__code="DETR").exists()
    client.force_login(User.objects.get(username="instr.etat"))
    page = client.get("/financeurs/").content.decode()
    assert f"Enveloppes {year} : avancement des crédits" in page


def test_demo_calls_for_projects(demo, client):
    """Issue 14: an open LEADER call and a coming Région call, on the public page."""
    from schemes.models import Call

    assert Call.objects.count() == 2
    page = client.get("/transparence/").content.decode()
    assert "Tiers-lieux et services de proximité" in page
    assert "Revitalisation des centres-bourgs" in page


def test_demo_funders_conference(demo, client):
    """Issue 14 point 6: a held session of the funders' conference, its agenda and the
    funders' positions, on the session page and in its minutes."""
    from cases.models import ConferencePosition, ConferenceSession

    session = ConferenceSession.objects.get()
    assert session.items.count() == 3 and session.funders.exists()
    stances = set(ConferencePosition.objects.values_list("stance", flat=True))
    assert stances == {"fund", "more"}
    client.force_login(User.objects.filter(role="agent", territory=session.territory).first())
    page = client.get(f"/programmation/conferences/{session.pk}/").content.decode()
    assert "Reste à couvrir par le porteur ou à trouver" in page
    minutes = client.get(f"/programmation/conferences/{session.pk}/releve.pdf")
    assert minutes.status_code == 200 and minutes["Content-Type"] == "application/pdf"
