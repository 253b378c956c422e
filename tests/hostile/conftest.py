"""Fixtures for hostile-input tests: real people and dossiers built through the services,
so that fuzzed requests reach real objects (not only 404s)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import services
from cases.models import User
from engine.transitions import transition_apply
from tests import factories as f
from tests.notifications.builders import detr_case, grant_detr


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def token_for(user) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


@pytest.fixture
def api():
    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    return make


def plan(total="100000.00", detr="40000.00"):
    from decimal import Decimal

    return {
        "expenses": [{"label": "Travaux", "amount": total}],
        "resources": [
            {"kind": "scheme", "scheme": "DETR", "amount": detr},
            {"kind": "self", "amount": str(Decimal(total) - Decimal(detr))},
        ],
    }


@pytest.fixture
def world(db):
    """One of each role, a draft, a submitted dossier and a committed grant with a claim."""
    org = f.OrganisationFactory()
    porteur = f.porteur(organisation=org, email="maire@example.org")
    agent = f.agent(email="agent@example.org")
    instructor = f.funder_instructor("ETAT", email="prefecture@example.org")
    admin = f.UserFactory(role=User.Role.ADMIN, is_superuser=True, is_staff=True)
    epci = f.UserFactory(role=User.Role.EPCI_PARTNER, epci=org.commune.epci)
    member = f.committee_member()
    today = timezone.localdate()
    draft = services.case_create(
        actor=porteur, data={"title": "Maison de santé", "state": "draft", "financing_plan": plan()}
    )
    # An association outside any commune, no agent yet: its dossier has no EPCI, no referent.
    association = f.OrganisationFactory(kind="association", commune=None, siren=None)
    lone = f.porteur(organisation=association)
    orphan = services.case_create(actor=lone, data={"title": "Jardins partagés"})
    assert orphan.epci_id is None
    orphan.referent_agent = None
    orphan.save(update_fields=["referent_agent"])
    submitted = detr_case(porteur=porteur, agent=agent, receipt=today - dt.timedelta(days=10))
    granted = detr_case(porteur=porteur, agent=agent, receipt=today - dt.timedelta(days=60))
    fr = grant_detr(
        granted,
        agent=agent,
        instructor=instructor,
        complete_on=today - dt.timedelta(days=50),
        granted_on=today - dt.timedelta(days=40),
    )
    transition_apply(
        instance=fr,
        name="commit",
        actor=instructor,
        data={"date": (today - dt.timedelta(days=30)).isoformat()},
    )
    claim = services.claim_create(
        actor=porteur, funding_request=fr, data={"kind": "advance", "amount": "5000.00"}
    )
    return {
        "users": {
            "porteur": porteur,
            "agent": agent,
            "funder_instructor": instructor,
            "admin": admin,
            "epci_partner": epci,
            "committee_member": member,
        },
        "draft": draft,
        "orphan": orphan,
        "submitted": submitted,
        "granted": granted,
        "request": fr,
        "claim": claim,
    }
