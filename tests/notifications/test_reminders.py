"""Reminders arrive on their day, once, to the party who must act; escalate when overdue;
follow a deadline that moves; stop when it closes."""

import datetime as dt

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from engine.models import Deadline
from engine.periodic import run_all
from engine.transitions import transition_apply
from notifications.models import Notification, Reminder
from notifications.relay import outbox_relay

from .builders import PDF, at, detr_case, grant_detr, people

pytestmark = pytest.mark.django_db

D = dt.timedelta


def sweep(day):
    with at(day):
        return run_all(today=day, inline=True)


def settle():
    """Deliver the events of the set-up (deposit, grant…) and forget their emails."""
    outbox_relay()
    mail.outbox.clear()


def mails_to(address):
    return [m for m in mail.outbox if address in m.to]


def test_works_start_reminders_each_on_its_day_once():
    porteur, agent, instructor, _ = people()
    case = detr_case(porteur=porteur, agent=agent, receipt=dt.date(2026, 1, 5))
    fr = grant_detr(
        case,
        agent=agent,
        instructor=instructor,
        complete_on=dt.date(2026, 1, 20),
        granted_on=dt.date(2026, 2, 2),
    )
    deadline = Deadline.objects.get(subject_id=fr.pk, kind="works_start")
    due = deadline.due_on
    assert due == dt.date(2028, 2, 2)
    settle()

    sweep(due - D(days=31))
    assert mails_to(porteur.email) == []
    for offset in (30, 7, 1, 0):
        before = len(mails_to(porteur.email))
        sweep(due - D(days=offset))
        sweep(due - D(days=offset))  # a second pass the same day sends nothing more
        got = mails_to(porteur.email)
        assert len(got) == before + 1, f"D-{offset}"
        assert "Commencer les travaux" in got[-1].subject
        html = got[-1].alternatives[0][0]
        assert '<html lang="fr">' in html and case.reference in got[-1].body
    sweep(due - D(days=20))
    assert len(mails_to(porteur.email)) == 4
    assert set(Reminder.objects.values_list("offset", flat=True)) == {30, 7, 1, 0}
    assert Reminder.objects.filter(state="sent").count() == 4
    assert Notification.objects.filter(user=porteur, kind="reminder").count() == 4
    assert mails_to(agent.email) == []  # the porteur must act, not the agent


def _case_with_documents_requested(porteur, agent, *, receipt, asked_on):
    case = detr_case(porteur=porteur, agent=agent, receipt=receipt)
    with at(asked_on):
        transition_apply(
            instance=case,
            name="request_documents",
            actor=agent,
            data={"documents": ["Plan de financement signé"]},
        )
    return case


def test_overdue_escalates_to_referent_then_director():
    porteur, agent, _, director = people()
    case = _case_with_documents_requested(
        porteur, agent, receipt=dt.date(2026, 1, 5), asked_on=dt.date(2026, 1, 12)
    )
    documents = Deadline.objects.get(aggregate_id=case.pk, kind="documents")
    assert documents.party == "porteur" and documents.due_on == dt.date(2026, 2, 11)
    settle()
    due = documents.due_on
    sweep(due)
    assert len(mails_to(porteur.email)) == 1
    sweep(due + D(days=1))
    sweep(due + D(days=1))
    escalations = mails_to(agent.email)
    assert len(escalations) == 1 and "dépassée" in escalations[0].subject
    assert mails_to(director.email) == []
    sweep(due + D(days=5))
    assert mails_to(director.email) == []
    sweep(due + D(days=8))
    sweep(due + D(days=9))
    assert len(mails_to(director.email)) == 1
    assert len(mails_to(agent.email)) == 1
    rows = Reminder.objects.filter(escalation=True).values_list("offset", "recipient_id")
    assert sorted(rows) == [(-8, director.pk), (-1, agent.pk)]


def test_suspension_moves_the_reminders():
    porteur, agent, _, _ = people()
    case = detr_case(porteur=porteur, agent=agent, receipt=dt.date(2026, 1, 5))
    completeness = Deadline.objects.get(aggregate_id=case.pk, kind="completeness")
    assert completeness.due_on == dt.date(2026, 4, 7)  # 5 Apr Sunday, 6 Apr Easter Monday
    settle()
    sweep(dt.date(2026, 3, 8))  # D-30: the agent must act
    assert len(mails_to(agent.email)) == 1
    with at(dt.date(2026, 3, 10)):
        transition_apply(
            instance=case,
            name="request_documents",
            actor=agent,
            data={"documents": ["Devis détaillés"]},
        )
    completeness.refresh_from_db()
    assert completeness.state == "suspended"
    sweep(dt.date(2026, 3, 31))  # the old D-7: the clock is stopped, nothing to say
    assert len(mails_to(agent.email)) == 1
    settle()
    with at(dt.date(2026, 4, 20)):
        services.document_upload(
            actor=porteur, case=case, kind="devis", upload=SimpleUploadedFile("devis.pdf", PDF)
        )
        transition_apply(instance=case, name="provide_documents", actor=porteur)
    completeness.refresh_from_db()
    assert completeness.state == "open"
    assert completeness.due_on == dt.date(2026, 5, 18)  # 28 days left, counted from 20 Apr
    settle()
    sweep(dt.date(2026, 5, 11))
    agent_mails = mails_to(agent.email)
    assert len(agent_mails) == 1 and "18/05/2026" in agent_mails[-1].body
    assert (
        Reminder.objects.filter(
            deadline=completeness, offset=7, due_on=dt.date(2026, 5, 18), state="sent"
        ).count()
        == 1
    )


def test_a_closed_deadline_sends_nothing_even_if_already_planned():
    from notifications.reminders import reminder_send, reminders_plan

    porteur, agent, _, _ = people()
    case = _case_with_documents_requested(
        porteur, agent, receipt=dt.date(2026, 1, 5), asked_on=dt.date(2026, 1, 12)
    )
    documents = Deadline.objects.get(aggregate_id=case.pk, kind="documents")
    day = documents.due_on - D(days=7)
    with at(day):
        ids = reminders_plan(today=day)
        assert len(ids) == 1
        services.document_upload(
            actor=porteur, case=case, kind="devis", upload=SimpleUploadedFile("devis.pdf", PDF)
        )
        transition_apply(instance=case, name="provide_documents", actor=porteur)
        mail.outbox.clear()
        assert reminder_send(ids[0], today=day) is False
    assert mail.outbox == []
    assert Reminder.objects.get(pk=ids[0]).state == "cancelled"
