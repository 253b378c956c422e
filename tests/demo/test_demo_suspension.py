"""The demo's suspension scenario gives the legal dates of the French calendar, on SQLite
as on PostgreSQL: the completeness period stops when the agent asks for documents
(the days left are kept) and restarts from them when the porteur provides them.

The demo is built for a fixed day with its fixed seed, so both databases build the same
dossiers; every date is checked against ``engine.calendar``, not against the database."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_fsm_log.models import StateLog
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.demo import load_demo
from cases.models import Case, CaseState, User
from engine.calendar import next_working_day, period_end
from engine.models import Deadline

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 16)  # a Monday; the suspended periods straddle Easter and May


def _logs(case: Case, transition: str):
    return StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Case),
        object_id=case.pk,
        transition=transition,
    )


def _day_of(case: Case, transition: str) -> dt.date:
    return timezone.localtime(_logs(case, transition).latest("pk").timestamp).date()


def _completeness(case: Case) -> Deadline:
    return Deadline.objects.get(
        subject_type=ContentType.objects.get_for_model(Case),
        subject_id=case.pk,
        kind="completeness",
    )


def _completeness_due(case: Case) -> dt.date:
    """The legal end of the completeness period opened at receipt: the shortest of the
    schemes' periods in months (CPC 641), run to a working day (CPC 642)."""
    months = [
        fr.scheme.completeness_months
        for fr in case.funding_requests.select_related("scheme")
        if fr.scheme.completeness_months is not None
    ]
    return min(period_end(case.receipt_date, months=m) for m in months)


def _porteur_client(case: Case) -> APIClient:
    porteur = User.objects.filter(
        organisation_id=case.organisation_id, role=User.Role.PORTEUR
    ).first()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=porteur)[0]}")
    return client


def test_demo_suspensions_keep_the_legal_dates(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo(today=TODAY)

    # documents asked for and provided on the day of receipt: the period is unchanged
    resumed = [
        case
        for case in Case.objects.filter(state=CaseState.SUBMITTED)
        if _logs(case, "provide_documents").exists()
    ]
    assert resumed, "the demo has a dossier whose documents were asked for and provided"
    for case in resumed:
        deadline = _completeness(case)
        assert deadline.state == Deadline.State.OPEN, case.reference
        assert deadline.due_on == _completeness_due(case), case.reference

    # incomplete dossiers: the clock stopped on the day of the request, the days left kept
    incomplete = list(Case.objects.filter(state=CaseState.INCOMPLETE))
    assert len(incomplete) >= 3
    for case in incomplete:
        deadline = _completeness(case)
        requested = _day_of(case, "request_documents")
        assert case.receipt_date <= requested < TODAY
        assert deadline.state == Deadline.State.SUSPENDED
        expected_left = max((_completeness_due(case) - requested).days, 0)
        assert deadline.days_left_when_suspended == expected_left, case.reference
        assert expected_left > 40  # a stopped clock, not one restarted at about a day

    # the porteur provides the documents today, through the API: the clock restarts
    for case in incomplete:
        left = _completeness(case).days_left_when_suspended
        client = _porteur_client(case)
        pdf = SimpleUploadedFile("devis.pdf", b"%PDF-1.4\n%devis\n", content_type="application/pdf")
        upload = client.post(
            f"/api/v1/cases/{case.pk}/documents/",
            {"kind": "other", "file": pdf},
            format="multipart",
        )
        assert upload.status_code == 201, upload.content
        answer = client.post(
            f"/api/v1/cases/{case.pk}/transitions/provide_documents/",
            {"date": TODAY.isoformat()},
            format="json",
        )
        assert answer.status_code == 200, answer.content
        deadline = _completeness(case)
        assert deadline.state == Deadline.State.OPEN
        assert deadline.days_left_when_suspended is None
        assert deadline.due_on == next_working_day(TODAY + dt.timedelta(days=left))
        # the API shows the same date
        listed = client.get("/api/v1/deadlines/", {"case": case.pk}).json()
        rows = listed["results"] if isinstance(listed, dict) else listed
        shown = {row["kind"]: row["due_on"] for row in rows}
        assert shown["completeness"] == deadline.due_on.isoformat()
