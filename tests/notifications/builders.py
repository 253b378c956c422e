"""Dossiers for notification tests, built through the services and the engine."""

from __future__ import annotations

import datetime as dt

import time_machine

from cases import builders
from tests import factories as f

PDF = b"%PDF-1.4\n%guichet test\n"


def at(day: dt.date):
    """Travel to 10:00 (Paris) on ``day``, clock frozen."""
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC), tick=False
    )


def detr_case(*, porteur, agent, receipt: dt.date, amount="40000.00", total="100000.00"):
    """A submitted DETR dossier of ``porteur``'s organisation with ``agent`` as referent."""
    with at(receipt):
        case = builders.case_build(
            porteur=porteur,
            title="Réfection de la toiture de l'école",
            plan=builders.plan(total, ("DETR", amount)),
            state="draft",
        )
        case.referent_agent = agent
        case.save(update_fields=["referent_agent"])
        builders.case_documents_add(actor=porteur, case=case, content=PDF)
        case = builders.case_submit_on(case, porteur=porteur)
    return case


def grant_detr(case, *, agent, instructor, complete_on: dt.date, granted_on: dt.date):
    with at(complete_on):
        case = builders.case_complete_on(case, agent=agent, instructor=instructor)
    with at(granted_on):
        return builders.request_grant_on(case.funding_requests.get(), instructor=instructor)


def people():
    org = f.OrganisationFactory()
    porteur = f.porteur(organisation=org, email="maire@example.org")
    agent = f.agent(email="agent@example.org")
    instructor = f.funder_instructor("ETAT", email="prefecture@example.org")
    director = f.UserFactory(role="director", email="direction@example.org")
    return porteur, agent, instructor, director
