"""Dossiers for notification tests, built through the services and the engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from engine.transitions import transition_apply
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
        case = services.case_create(
            actor=porteur,
            data={
                "title": "Réfection de la toiture de l'école",
                "state": "draft",
                "financing_plan": {
                    "expenses": [{"label": "Travaux", "amount": total}],
                    "resources": [
                        {"kind": "scheme", "scheme": "DETR", "amount": amount},
                        {"kind": "self", "amount": str(Decimal(total) - Decimal(amount))},
                    ],
                },
            },
        )
        case.referent_agent = agent
        case.save(update_fields=["referent_agent"])
        for code in f.scheme("DETR").required_document_codes():
            services.document_upload(
                actor=porteur, case=case, kind=code, upload=SimpleUploadedFile(f"{code}.pdf", PDF)
            )
        transition_apply(instance=case, name="submit", actor=porteur)
    case.refresh_from_db()
    return case


def grant_detr(case, *, agent, instructor, complete_on: dt.date, granted_on: dt.date):
    with at(complete_on):
        transition_apply(instance=case, name="declare_complete", actor=agent)
        fr = case.funding_requests.get()
        transition_apply(instance=fr, name="start_instruction", actor=instructor)
    with at(granted_on):
        fr.refresh_from_db()
        transition_apply(
            instance=fr,
            name="grant",
            actor=instructor,
            data={"amount_granted": str(fr.amount_requested)},
        )
    fr.refresh_from_db()
    return fr


def people():
    org = f.OrganisationFactory()
    porteur = f.porteur(organisation=org, email="maire@example.org")
    agent = f.agent(email="agent@example.org")
    instructor = f.funder_instructor("ETAT", email="prefecture@example.org")
    director = f.UserFactory(role="director", email="direction@example.org")
    return porteur, agent, instructor, director
