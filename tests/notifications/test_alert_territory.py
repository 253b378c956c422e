"""An alert names whom it is about: an organisation, or a territory for an alert about the
programme. Never neither (a check constraint); the book keeps its territory in step with
what the evaluation finds; an alert with no one to tell costs no query; the API gives the
territory's id."""

from __future__ import annotations

import datetime as dt
import json
import typing

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError

from notifications.alerts.common import Finding
from notifications.alerts.evaluate import alerts_evaluate
from notifications.handlers import _alert_audience
from notifications.models import Alert
from schemes.models import ActionSheet, Territory
from tests import factories as f

from .test_programme_at_risk import TODAY, granted, live, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_an_alert_about_no_one_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        Alert.objects.create(
            kind=Alert.Kind.PROGRAMME_AT_RISK,
            subject_type=ContentType.objects.get_for_model(ActionSheet),
            subject_id=1,
            message="Personne",
        )


def test_an_alert_with_no_organisation_nor_territory_reaches_no_one_without_a_query(
    django_assert_num_queries,
):
    alert = Alert(kind=Alert.Kind.PROGRAMME_AT_RISK, organisation_id=None, territory_id=None)
    with django_assert_num_queries(0):
        assert _alert_audience(alert) == {}


def test_the_finding_of_a_programme_alert_has_no_organisation():
    hints = typing.get_type_hints(Finding)
    assert hints["organisation_id"] == int | None
    assert hints["territory_id"] == int | None


def test_the_book_keeps_the_territory_in_step(world):  # noqa: F811
    granted(world, "85000", dt.date(2029, 8, 1))
    alerts_evaluate(today=TODAY)
    alert = live().get()
    other = Territory.objects.create(name="PETR voisin", slug="petr-voisin")
    Alert.objects.filter(pk=alert.pk).update(territory=other)
    assert alerts_evaluate(today=TODAY) == 1
    alert.refresh_from_db()
    assert alert.territory_id == world["sheet"].territory_id and alert.organisation_id is None
    assert alerts_evaluate(today=TODAY) == 0  # in step: nothing written again


def test_the_api_gives_the_alert_territory(world, client):  # noqa: F811
    from rest_framework.test import APIClient

    granted(world, "85000", dt.date(2029, 8, 1))
    alerts_evaluate(today=TODAY)
    api = APIClient()
    api.force_authenticate(f.agent())
    [row] = api.get("/api/v1/alerts/", {"kind": "programme_at_risk"}).json()
    assert row["territory"] == world["sheet"].territory_id and row["organisation"] is None
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    assert "territory" in schema["components"]["schemas"]["Alert"]["properties"]
