"""The ``programme_at_risk`` alert (issue 14): raised per LEADER action sheet when the money
at risk of being lost passes the share of its target set by the parameter, not below it;
one live alert per sheet however many passes, resolved when the risk drops back; seen by
the territory's staff, not by porteurs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from cases import builders
from cases.models import Case, FundingRequest, RequestState
from notifications.alert_selectors import alert_list
from notifications.alerts.evaluate import alerts_evaluate
from notifications.models import Alert
from schemes.models import ActionSheet, Scheme
from tests import factories as f

pytestmark = pytest.mark.django_db

D = Decimal
K = Alert.Kind
TODAY = dt.date(2029, 6, 1)  # past the last programming date (31/12/2027)


@pytest.fixture
def world():
    porteur = f.porteur()
    leader = Scheme.objects.get(code="LEADER")
    Scheme.objects.filter(pk=leader.pk).update(expected_payment_delay_days=90)
    case = builders.case_build(porteur=porteur, title="Halle gourmande", state="draft")
    sheet = ActionSheet.objects.create(
        scheme=leader,
        territory_id=case.territory_id,
        code="FA2",
        title="Économie de proximité",
        target_amount=D("100000"),
    )
    return {"porteur": porteur, "case": case, "leader": leader, "sheet": sheet}


def granted(world, amount: str, works_end: dt.date) -> FundingRequest:
    own = Case.objects.get(pk=world["case"].pk)
    own.pk = own.id = None
    own.reference = None
    own.planned_works_end = works_end
    own.save()
    return FundingRequest.objects.create(
        case=own,
        scheme=world["leader"],
        state=RequestState.COMMITTED,
        amount_requested=D(amount),
        amount_granted=D(amount),
        granted_on=dt.date(2026, 5, 1),
        action_sheet=world["sheet"],
    )


def live():
    return Alert.objects.filter(kind=K.PROGRAMME_AT_RISK, state__in=["open", "acknowledged"])


def test_raised_above_the_parameter_once_and_resolved_below(world):
    in_time = dt.date(2029, 8, 1)
    granted(world, "85000", in_time)  # 15 000 € never programmed, past the last date
    alerts_evaluate(today=TODAY)
    alert = live().get()
    assert alert.organisation_id is None and alert.case_id is None
    assert alert.territory_id == world["case"].territory_id
    assert alert.subject_id == world["sheet"].pk and alert.severity == Alert.Severity.WARNING
    assert "FA2" in alert.message and "15 000,00 €" in alert.message
    assert alert.data["at_risk"] == "15000.00" and alert.data["risk_share"] == "0.10"
    assert alerts_evaluate(today=TODAY) == 0 and live().count() == 1  # idempotent
    # Programmed money payable too late adds up: twice the share is critical.
    late = granted(world, "20000", dt.date(2029, 12, 1))  # all programmed, 20 000 € late
    alerts_evaluate(today=TODAY)
    alert = live().get()
    assert alert.severity == Alert.Severity.CRITICAL and alert.data["at_risk"] == "20000.00"
    assert alert.data["late"] == "20000.00" and alert.data["requests"][0]["id"] == late.pk
    # Paid after all: nothing at risk any more, resolved.
    FundingRequest.objects.filter(pk=late.pk).update(state=RequestState.PAID)
    alerts_evaluate(today=TODAY)
    assert not live().exists()
    assert Alert.objects.get(kind=K.PROGRAMME_AT_RISK).state == Alert.State.RESOLVED


def test_not_raised_at_or_below_the_parameter(world):
    granted(world, "90000", dt.date(2029, 8, 1))  # 10 % unprogrammed: not above 10 %
    alerts_evaluate(today=TODAY)
    assert not live().exists()
    with override_settings(GUICHET_PROGRAMME_RISK_SHARE="0.05"):
        alerts_evaluate(today=TODAY)
    assert live().count() == 1


def test_not_raised_while_programming_is_far(world):
    granted(world, "10000", dt.date(2027, 8, 1))  # 90 % to programme, but in 2026
    alerts_evaluate(today=dt.date(2026, 6, 1))
    assert not live().exists()


def test_seen_by_the_territory_staff_not_by_porteurs(world):
    granted(world, "50000", dt.date(2029, 8, 1))
    alerts_evaluate(today=TODAY)
    alert = live().get()
    assert alert_list(user=f.agent()).filter(pk=alert.pk).exists()
    assert not alert_list(user=world["porteur"]).filter(pk=alert.pk).exists()
    assert not alert_list(user=f.porteur()).filter(pk=alert.pk).exists()


def test_the_opened_alert_reaches_the_territory_staff_and_the_digest(world, mailoutbox):
    from engine.models import OutboxEvent
    from notifications.digest import director_digest_lines
    from notifications.handlers import handle_alert_event
    from notifications.models import Notification

    agent, director = f.agent(), f.UserFactory(role="director")
    granted(world, "50000", dt.date(2029, 8, 1))
    alerts_evaluate(today=TODAY)
    alert = live().get()
    event = OutboxEvent.objects.get(topic="alert.opened", subject_id=alert.pk)
    assert handle_alert_event(event) == 2
    told = set(
        Notification.objects.filter(kind="alert.programme_at_risk").values_list("user", flat=True)
    )
    assert told == {agent.pk, director.pk}  # not the porteur: the alert is the programme's
    assert any("FA2" in m.body for m in mailoutbox)  # critical (50 %): by e-mail too
    lines = director_digest_lines(TODAY, world["case"].territory_id)
    assert any("Crédits du programme LEADER en danger" in line for line in lines)


def test_the_api_lists_it_to_an_agent_and_an_agent_acknowledges_it(world):
    from rest_framework.test import APIClient

    granted(world, "50000", dt.date(2029, 8, 1))
    alerts_evaluate(today=TODAY)
    api = APIClient()
    api.force_authenticate(f.agent())
    [row] = api.get("/api/v1/alerts/", {"kind": "programme_at_risk"}).json()
    assert row["subject"] == "action_sheet" and row["subject_id"] == world["sheet"].pk
    assert row["organisation"] is None
    assert row["kind_label"] == "Crédits du programme LEADER en danger"
    done = api.post(f"/api/v1/alerts/{row['id']}/acknowledge/")
    assert done.status_code == 200 and done.json()["state"] == "acknowledged"
    api.force_authenticate(world["porteur"])
    assert api.get("/api/v1/alerts/", {"kind": "programme_at_risk"}).json() == []
    assert api.post(f"/api/v1/alerts/{row['id']}/acknowledge/").status_code == 404


def test_another_territory_neither_sees_the_alert_nor_the_section(world, client):
    from schemes.models import Territory

    granted(world, "50000", dt.date(2029, 8, 1))
    alerts_evaluate(today=TODAY)
    alert = live().get()
    other = Territory.objects.create(name="PETR voisin", slug="petr-voisin")
    stranger = f.agent(territory=other)
    assert stranger.territory_id == other.pk
    assert not alert_list(user=stranger).filter(pk=alert.pk).exists()
    client.force_login(stranger)
    html = client.get("/observatoire/").content.decode()
    assert "Santé du programme LEADER" not in html and "FA2" not in html
    client.force_login(f.agent())
    assert "Santé du programme LEADER" in client.get("/observatoire/").content.decode()
