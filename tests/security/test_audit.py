"""Access log: who read or exported a dossier (not porteurs on their own), cheap, readable
by the administration and the direction only."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Case, User
from engine.audit import access_record, audited
from engine.models import AccessLog
from tests import factories as f
from tests.api.test_permission_matrix import _dossier

from .conftest import make_case

pytestmark = pytest.mark.django_db


def test_an_agent_reading_a_dossier_is_recorded_once_per_hour(api, dossier):
    _, case, _ = dossier
    agent = f.agent()
    client = api(agent)
    for _ in range(3):
        assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert client.get(f"/api/v1/cases/{case.pk}/documents/").status_code == 200
    logs = list(AccessLog.objects.filter(aggregate_id=case.pk))
    assert len(logs) == 1
    log = logs[0]
    assert (log.user_id, log.username, log.role, log.action) == (
        agent.pk,
        agent.username,
        "agent",
        "read",
    )
    assert log.subject_type.model == "case" and log.subject_id == case.pk
    assert log.ip == "127.0.0.1"
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, minutes=1)):
        assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert AccessLog.objects.filter(aggregate_id=case.pk).count() == 2


def test_one_read_costs_one_insert(dossier, django_assert_max_num_queries):
    _, case, _ = dossier
    agent = f.agent()
    access_record(user=agent, action="read", subject=case, aggregate_id=case.pk)  # warm caches
    AccessLog.objects.all().delete()
    with django_assert_max_num_queries(3):  # savepoint, INSERT … ON CONFLICT, release
        access_record(user=agent, action="read", subject=case, aggregate_id=case.pk)
    assert AccessLog.objects.count() == 1


def test_porteurs_and_anonymous_are_not_recorded_exports_always_are(dossier):
    porteur, case, doc = dossier
    assert access_record(user=porteur, action="read", subject=case, aggregate_id=case.pk) is False
    director = f.UserFactory(role=User.Role.DIRECTOR)
    for _ in range(2):
        access_record(user=director, action="export", subject=doc, aggregate_id=case.pk)
    assert AccessLog.objects.filter(action="export", user=director).count() == 2
    assert not AccessLog.objects.filter(user=porteur).exists()
    with pytest.raises(ValueError):
        access_record(user=director, action="delete", subject=case, aggregate_id=case.pk)


def test_api_reads_of_requests_and_claims_are_recorded():
    porteur = f.porteur()
    agent = f.agent(epci=porteur.organisation.epci)
    etat = f.funder_instructor("ETAT")
    case, fr, claim = _dossier(porteur, agent, etat, decided=True)
    client = APIClient()
    client.force_authenticate(etat)
    assert client.get(f"/api/v1/funding-requests/{fr.pk}/").status_code == 200
    assert client.get(f"/api/v1/payment-claims/{claim.pk}/").status_code == 200
    assert client.get(f"/api/v1/funding-requests/{fr.pk}/payment-claims/").status_code == 200
    rows = AccessLog.objects.filter(user=etat, aggregate_id=case.pk)
    assert rows.count() == 1  # one read per user × dossier × hour
    assert rows.get().subject_type.model == "fundingrequest"
    partner = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=case.epci)
    client.force_authenticate(partner)
    assert client.get(f"/api/v1/payment-claims/{claim.pk}/").status_code == 200
    assert AccessLog.objects.get(user=partner).subject_type.model == "paymentclaim"
    client.force_authenticate(porteur)
    assert client.get(f"/api/v1/payment-claims/{claim.pk}/").status_code == 200
    assert not AccessLog.objects.filter(user=porteur).exists()


def test_a_refused_read_is_not_recorded(api, dossier):
    _, case, _ = dossier
    outsider = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=None)
    assert api(outsider).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert not AccessLog.objects.exists()


def test_web_dossier_page_and_download_are_recorded(dossier):
    _, case, doc = dossier
    agent = f.agent()
    client = Client()
    client.force_login(agent)
    assert client.get(f"/dossiers/{case.pk}/").status_code == 200
    download = client.get(f"/pieces/{doc.pk}/telecharger/")
    assert download.status_code == 200
    actions = sorted(AccessLog.objects.filter(user=agent).values_list("action", flat=True))
    assert actions == ["export", "read"]
    assert AccessLog.objects.get(action="export").subject_id == doc.pk


def test_audited_decorator_records_only_successes(rf, dossier):
    _, case, doc = dossier
    agent = f.agent()

    @audited("export", model="cases.Document", aggregate_field="case_id")
    def view(request, pk):
        from django.http import HttpResponse

        return HttpResponse(status=200 if pk == doc.pk else 404)

    request = rf.get("/")
    request.user = agent
    view(request, pk=doc.pk)
    view(request, pk=doc.pk + 1000)
    log = AccessLog.objects.get()
    assert (log.action, log.subject_id, log.aggregate_id) == ("export", doc.pk, case.pk)


def test_audit_api_is_for_admin_and_director_and_filters_by_case(api, dossier):
    _, case, _ = dossier
    other = make_case(f.porteur(), title="Autre dossier")
    agent = f.agent()
    api(agent).get(f"/api/v1/cases/{case.pk}/")
    api(agent).get(f"/api/v1/cases/{other.pk}/")
    for role in (User.Role.AGENT, User.Role.EPCI_PARTNER, User.Role.FUNDER_INSTRUCTOR):
        denied = api(f.UserFactory(role=role)).get("/api/v1/audit/")
        assert denied.status_code == 403 and "réservé" in denied.json()["detail"]
    assert api(f.porteur()).get("/api/v1/audit/").status_code == 403
    director = f.UserFactory(role=User.Role.DIRECTOR)
    page = api(director).get(f"/api/v1/audit/?case={case.pk}")
    assert page.status_code == 200
    assert [(r["case"], r["username"], r["action"]) for r in page.json()["results"]] == [
        (case.pk, agent.username, "read")
    ]
    admin = f.UserFactory(role=User.Role.ADMIN)
    assert api(admin).get("/api/v1/audit/").json()["count"] == 2  # reading the log is not logged
    for bad in ("abc", "-1", "9" * 30, "1\x00"):
        response = api(admin).get("/api/v1/audit/", {"case": bad})
        assert response.status_code == 400 and response.json()["detail"]
    assert api(admin).get("/api/v1/audit/?action=delete").status_code == 400


def test_admin_lists_the_access_log_read_only(dossier):
    _, case, _ = dossier
    agent = f.agent(username="agent.lecteur")
    access_record(user=agent, action="read", subject=case, aggregate_id=case.pk)
    admin = f.UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/engine/accesslog/")
    assert page.status_code == 200 and "agent.lecteur" in page.content.decode()
    log = AccessLog.objects.get()
    assert client.get(f"/admin/engine/accesslog/{log.pk}/delete/").status_code == 403
    assert client.get("/admin/engine/accesslog/add/").status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()


def test_access_log_keeps_the_client_address_behind_a_proxy(api, dossier, settings):
    settings.GUICHET_PROXY_COUNT = 1
    _, case, _ = dossier
    agent = f.agent()
    api(agent).get(
        f"/api/v1/cases/{case.pk}/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.4",
    )
    assert AccessLog.objects.get(user=agent).ip == "198.51.100.4"
