"""Alerts through the HTTP API: scoped list, filters, acknowledgement."""

import pytest
from rest_framework.test import APIClient

from notifications.alerts import alerts_evaluate
from notifications.relay import outbox_relay
from tests import factories as f

from .test_alerts import _fast_passwords, day, overdue  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_alert_list_filters_and_acknowledge(overdue):  # noqa: F811
    alerts_evaluate(today=day(300))
    porteur, agent = overdue["porteur"], overdue["agent"]
    listed = client_for(porteur).get("/api/v1/alerts/")
    assert listed.status_code == 200
    kinds = {a["kind"] for a in listed.json()}
    assert kinds == {"payment_overdue", "treasury_risk", "installment_ceiling"}
    overdue_alert = next(a for a in listed.json() if a["kind"] == "payment_overdue")
    assert overdue_alert["subject"] == "payment_claim"
    assert overdue_alert["subject_id"] == overdue["claim"].pk
    assert "impayé" in overdue_alert["message"] or "retard" in overdue_alert["message"]

    only = client_for(agent).get("/api/v1/alerts/?kind=treasury_risk&state=open").json()
    assert [a["kind"] for a in only] == ["treasury_risk"]
    bad = client_for(agent).get("/api/v1/alerts/?kind=nimportequoi")
    assert bad.status_code == 400 and "inconnu" in bad.json()["detail"]

    stranger = f.porteur()
    assert client_for(stranger).get("/api/v1/alerts/").json() == []
    url = f"/api/v1/alerts/{overdue_alert['id']}/acknowledge/"
    assert client_for(stranger).post(url).status_code == 404
    acked = client_for(porteur).post(url)
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert APIClient().get("/api/v1/alerts/").status_code == 401


def test_an_opened_alert_notifies_the_porteur_and_the_referent(overdue):  # noqa: F811
    from cases.models import Case

    porteur, referent = overdue["porteur"], overdue["agent"]
    Case.objects.filter(pk=overdue["case"].pk).update(referent_agent=referent)
    outbox_relay()
    alerts_evaluate(today=day(300))
    outbox_relay()
    for user in (porteur, referent):
        kinds = {n["kind"] for n in client_for(user).get("/api/v1/notifications/").json()}
        assert {"alert.payment_overdue", "alert.treasury_risk"} <= kinds
