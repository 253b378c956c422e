"""Delivery through real Redis and a real Celery worker: exactly once, nothing lost."""

import datetime as dt
import threading

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from cases import services
from engine.deadlines import deadline_open
from engine.models import OutboxEvent
from engine.periodic import run_all
from engine.transitions import transition_apply
from notifications.models import Notification, Reminder
from tests import factories as f

from .builders import PDF, people
from .celery_support import RedisServer, celery_app, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def no_eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def _draft(porteur, agent):
    case = services.case_create(
        actor=porteur,
        data={
            "title": "Salle multiculturelle",
            "state": "draft",
            "financing_plan": {
                "expenses": [{"label": "Travaux", "amount": "200000.00"}],
                "resources": [
                    {"kind": "scheme", "scheme": "DETR", "amount": "80000.00"},
                    {"kind": "self", "amount": "120000.00"},
                ],
            },
        },
    )
    case.referent_agent = agent
    case.save(update_fields=["referent_agent"])
    return case


def _due_in(case, days, party="porteur"):
    return deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind="documents",
        due_on=timezone.localdate() + dt.timedelta(days=days),
        party=party,
    )


def test_reminders_go_through_the_worker_once(no_eager, broker_url):
    porteur, agent, _, _ = people()
    case = _draft(porteur, agent)
    _due_in(case, 7)
    with celery_app(broker_url) as app:
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            run_all()
            assert wait_for(lambda: Reminder.objects.filter(state="sent").count() == 1)
            run_all()  # a second beat pass: the reminder is already sent
            run_all()
            assert wait_for(lambda: OutboxEvent.objects.filter(processed_at=None).count() == 0)
    reminders = [m for m in mail.outbox if porteur.email in m.to]
    assert len(reminders) == 1
    assert Reminder.objects.count() == 1


def test_two_sweeps_at_once_send_each_reminder_once():
    porteur, agent, _, _ = people()
    cases = [_draft(porteur, agent) for _ in range(5)]
    for case in cases:
        _due_in(case, 1)
    barrier = threading.Barrier(2)
    errors = []

    def sweep():
        try:
            barrier.wait(10)
            run_all(inline=True)
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    reminder_mails = [m for m in mail.outbox if "Rappel" in m.subject]
    assert len(reminder_mails) == 5
    assert Reminder.objects.filter(state="sent").count() == 5
    assert Notification.objects.filter(kind="reminder").count() == 5


def test_redis_down_during_submit_loses_nothing(no_eager):
    porteur, agent, _, _ = people()
    case = _draft(porteur, agent)
    for code in f.scheme("DETR").required_document_codes():
        services.document_upload(
            actor=porteur, case=case, kind=code, upload=SimpleUploadedFile(f"{code}.pdf", PDF)
        )
    OutboxEvent.objects.update(processed_at=timezone.now())  # only the submit matters here
    redis = RedisServer()
    redis.start()
    try:
        with celery_app(redis.url) as app:
            redis.stop()
            transition_apply(instance=case, name="submit", actor=porteur)
            case.refresh_from_db()
            assert case.state == "submitted"
            pending = OutboxEvent.objects.filter(processed_at=None)
            assert pending.filter(topic="case.submit").count() == 1
            assert Notification.objects.count() == 0

            redis.start()
            app.control.purge()
            with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
                run_all()  # the beat pass kicks the relay
                assert wait_for(lambda: not pending.exists())
                assert wait_for(
                    lambda: Notification.objects.filter(kind="case.submit").count() == 2
                )
                run_all()
                run_all()
                from notifications.dispatch import enqueue
                from notifications.tasks import relay_outbox

                enqueue(relay_outbox)
                enqueue(relay_outbox)
                wait_for(lambda: False, timeout=1.5)
        assert Notification.objects.filter(kind="case.submit").count() == 2
        submit_mails = [m for m in mail.outbox if "déposé" in m.subject]
        assert len(submit_mails) == 2  # porteur and referent, once each
    finally:
        redis.stop()
