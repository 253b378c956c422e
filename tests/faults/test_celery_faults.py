"""Celery and Redis faults on real processes: a private redis-server, real ``celery worker``
subprocesses on this session's test database, a local SMTP server counting what it
accepts. Each test proves one exactly-once property by counting SMTP messages."""

from __future__ import annotations

import datetime as dt
import signal
import time

import pytest
from aiosmtpd.controller import Controller
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from engine.deadlines import deadline_open
from engine.models import OutboxEvent
from engine.periodic import run_all
from engine.transitions import transition_apply
from notifications.dispatch import enqueue
from notifications.models import Notification, Reminder
from notifications.reminders import reminders_plan
from notifications.tasks import send_reminders
from tests import factories as f
from tests.notifications.builders import PDF, people
from tests.notifications.celery_support import RedisServer, celery_app
from tests.notifications.test_delivery import _draft

from .support import CountingSMTP, celery_worker, free_port, project_env, stop_process, wait_for

# Celery workers as separate processes on the test database: the production topology,
# PostgreSQL only (the relay claims events with advisory locks, reminders are taken with
# SKIP LOCKED); the SQLite demo runs every job in one in-process scheduler, no worker.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


@pytest.fixture
def redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_factory():
    started = []

    def make(handler) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return port

    yield make
    for controller in started:
        controller.stop()


@pytest.fixture
def workers():
    procs = []
    yield procs
    for proc in procs:
        stop_process(proc)


def worker_env(broker: str, smtp_port: int) -> dict:
    db = connection.settings_dict
    return project_env(
        DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=broker,
        CELERY_BROKER_URL=broker,
        CELERY_TASK_ALWAYS_EAGER="0",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        GUICHET_BROKER_VISIBILITY_TIMEOUT="2",
        CONN_MAX_AGE="0",
    )


def submitted_case(porteur, agent):
    case = _draft(porteur, agent)
    for code in f.scheme("DETR").required_document_codes():
        from cases import services

        services.document_upload(
            actor=porteur, case=case, kind=code, upload=SimpleUploadedFile(f"{code}.pdf", PDF)
        )
    transition_apply(instance=case, name="submit", actor=porteur)
    return case


def assert_each_once(handler: CountingSMTP, expected: int) -> list[str]:
    ids = handler.message_ids()
    assert len(ids) == expected, ids
    assert len(set(ids)) == len(ids), f"duplicates: {sorted(ids)}"
    return ids


def test_redis_stopped_and_restarted_outbox_catches_up_reminders_once(
    settings, redis, smtp_factory, workers
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # A reminder whose task could not be enqueued (broker down) is enqueued again by the
    # next pass once it is GUICHET_REMINDER_RETRY_MINUTES old (10 by default): 0 here, so
    # that every pass re-enqueues it — the harder case for "exactly once".
    settings.GUICHET_REMINDER_RETRY_MINUTES = 0
    porteur, agent, _, _ = people()
    case = _draft(porteur, agent)
    for code in f.scheme("DETR").required_document_codes():
        from cases import services

        services.document_upload(
            actor=porteur, case=case, kind=code, upload=SimpleUploadedFile(f"{code}.pdf", PDF)
        )
    deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind="documents",
        due_on=timezone.localdate() + dt.timedelta(days=7),
        party="porteur",
    )
    OutboxEvent.objects.update(processed_at=timezone.now())  # only what follows matters
    handler = CountingSMTP()
    smtp_port = smtp_factory(handler)
    with celery_app(redis.url) as app:
        app.control.purge()
        workers.append(celery_worker(worker_env(redis.url, smtp_port), name="w1"))
        run_all()  # the worker is up and idle: prove it works before the fault
        assert wait_for(lambda: Reminder.objects.filter(state="sent").count() == 1, 60)
        assert wait_for(lambda: len(handler.delivered) == 1, 10)

        redis.stop()  # Redis goes away under a running worker
        transition_apply(instance=case, name="submit", actor=porteur)
        deadline_open(
            subject=case,
            aggregate_id=case.pk,
            kind="works_start",
            due_on=timezone.localdate() + dt.timedelta(days=1),
            party="porteur",
        )
        run_all()  # broker down: nothing can be enqueued, nothing is lost
        pending_events = OutboxEvent.objects.filter(processed_at=None)
        assert pending_events.filter(topic="case.submit").count() == 1
        assert Reminder.objects.filter(state="pending").count() == 1
        time.sleep(1)
        assert len(handler.delivered) == 1

        redis.start()  # same port: the worker reconnects by itself
        assert wait_for(lambda: _ping(app), 60), "the worker did not reconnect"
        run_all()
        run_all()  # beat passes after the restart: each reminder still goes once
        assert wait_for(lambda: not pending_events.exists(), 60)
        assert wait_for(lambda: Reminder.objects.filter(state="sent").count() == 2, 60)
        assert wait_for(lambda: len(handler.delivered) == 4, 30)  # 2 reminders + 2 submit
        run_all()
        time.sleep(2)
    ids = assert_each_once(handler, 4)
    assert sum(i.startswith("<reminder-") for i in ids) == 2
    assert Notification.objects.filter(kind="case.submit").count() == 2
    assert Reminder.objects.filter(state="sent", attempts=1).count() == 2


def _ping(app) -> bool:
    return _workers_up(app) > 0


def _workers_up(app) -> int:
    try:
        return len(app.control.ping(timeout=1.0) or [])
    except Exception:  # broker still down
        return 0


def _kill_relay_on_email(redis, smtp_factory, workers, cases, agent, *, stall_on, delivered_before):
    """Ask each dossier's porteurs for documents (one event each), let a relay worker run
    until the SMTP server holds e-mail number ``stall_on``, SIGKILL it there, then start a
    second worker and wait until every event is delivered. Returns the SMTP handler."""
    OutboxEvent.objects.update(processed_at=timezone.now())
    handler = CountingSMTP(stall_on=stall_on)
    env = worker_env(redis.url, smtp_factory(handler))
    with celery_app(redis.url) as app:
        app.control.purge()
        for case in cases:
            transition_apply(
                instance=case,
                name="request_documents",
                actor=agent,
                data={"documents": ["Plan de situation"]},
            )
        first = celery_worker(env, name="w1")
        workers.append(first)
        assert handler.entered.wait(90), "the relay never reached the SMTP server"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        handler.release.set()
        assert len(handler.delivered) == delivered_before
        # what the killed worker had committed: one notification per e-mail delivered
        notices = Notification.objects.filter(kind="case.request_documents")
        assert notices.count() == delivered_before
        workers.append(celery_worker(env, name="w2"))
        # The killed task comes back when the broker restores it; the beat's next relay
        # pass (every minute) does not wait for that: it is sent here.
        app.send_task("notifications.relay_outbox")
        pending = OutboxEvent.objects.filter(processed_at=None)
        assert wait_for(lambda: not pending.exists(), 90)
        time.sleep(2)
    return handler


def test_relay_worker_killed_mid_batch_sends_each_notice_once(
    settings, redis, smtp_factory, workers
):
    """The outbox relay is SIGKILLed while delivering a batch of events (the SMTP server
    holds the third e-mail): the task comes back to a second worker, and every notice is
    delivered exactly once — none lost, none repeated."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    count = 6
    porteur, agent, _, _ = people()
    cases = [submitted_case(porteur, agent) for _ in range(count)]
    handler = _kill_relay_on_email(
        redis, smtp_factory, workers, cases, agent, stall_on=3, delivered_before=2
    )
    assert_each_once(handler, count)
    assert Notification.objects.filter(kind="case.request_documents").count() == count


def test_two_workers_on_one_queue_deliver_each_reminder_once(
    settings, redis, smtp_factory, workers
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    count = 12
    porteur, agent, _, _ = people()
    for i in range(count):
        case = _draft(porteur, agent)
        deadline_open(
            subject=case,
            aggregate_id=case.pk,
            kind="documents",
            due_on=timezone.localdate() + dt.timedelta(days=7 if i % 2 else 1),
            party="porteur",
        )
    ids = reminders_plan()
    assert len(ids) == count
    handler = CountingSMTP()
    smtp_port = smtp_factory(handler)
    env = worker_env(redis.url, smtp_port)
    with celery_app(redis.url) as app:
        app.control.purge()
        workers.append(celery_worker(env, name="w1"))
        workers.append(celery_worker(env, name="w2"))
        assert wait_for(lambda: _workers_up(app) == 2, 60)
        # Every reminder is in several tasks at once: chunks, the whole list, reversed.
        for start in range(0, count, 3):
            enqueue(send_reminders, ids[start : start + 3])
        enqueue(send_reminders, ids)
        enqueue(send_reminders, list(reversed(ids)))
        run_all()  # and a beat pass on top
        assert wait_for(lambda: Reminder.objects.filter(state="sent").count() == count, 90)
        time.sleep(3)  # let the remaining tasks run: they must find nothing left to send
    assert_each_once(handler, count)
    assert Reminder.objects.filter(state="sent", attempts=1).count() == count
    assert Notification.objects.filter(kind="reminder").count() == count


def test_relay_killed_inside_one_event_repeats_no_recipient(settings, redis, smtp_factory, workers):
    """One event, three recipients (three porteurs of the organisation are asked for
    documents); the relay is SIGKILLed while the second e-mail is on the wire. The first
    recipient was committed on its own: the second worker delivers the other two, and each
    of the three gets exactly one e-mail and one notification."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    porteur, agent, _, _ = people()
    others = [f.porteur(porteur.organisation, email=f"adjoint{i}@example.org") for i in (1, 2)]
    case = submitted_case(porteur, agent)
    handler = _kill_relay_on_email(
        redis, smtp_factory, workers, [case], agent, stall_on=2, delivered_before=1
    )
    ids = assert_each_once(handler, 3)
    recipients = sorted(rcpt for env_ in handler.delivered for rcpt in env_.rcpt_tos)
    assert recipients == sorted([porteur.email, *(o.email for o in others)]), ids
    assert Notification.objects.filter(kind="case.request_documents").count() == 3
