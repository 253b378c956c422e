"""A Celery worker killed with SIGKILL in the middle of sending a reminder: the task is
delivered again and the reminder reaches the recipient exactly once (real SMTP traffic)."""

import asyncio
import datetime as dt
import signal
import subprocess
import threading

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from engine.deadlines import deadline_open
from engine.periodic import run_all
from notifications.dispatch import enqueue
from notifications.models import Reminder
from notifications.reminders import reminders_plan, reminders_send
from notifications.tasks import send_reminders
from tests.faults.support import celery_worker
from tests.faults.test_celery_faults import worker_env

from .builders import people
from .celery_support import celery_app, free_port, wait_for
from .test_delivery import _draft

# a Celery worker process on the test database: PostgreSQL only, see tests/faults
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


class StallingHandler:
    """Holds the first message in DATA until released, then refuses it; accepts the rest."""

    def __init__(self):
        self.delivered = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    async def handle_DATA(self, server, session, envelope):
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            return "451 4.3.0 Interrompu"
        self.delivered.append(envelope)
        return "250 OK"


def _worker(smtp_port: int, broker: str, name: str) -> subprocess.Popen:
    return celery_worker(worker_env(broker, smtp_port), name=name)


def test_worker_killed_mid_send_delivers_exactly_once(settings, broker_url):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    porteur, agent, _, _ = people()
    case = _draft(porteur, agent)
    deadline_open(
        subject=case,
        aggregate_id=case.pk,
        kind="documents",
        due_on=timezone.localdate() + dt.timedelta(days=7),
        party="porteur",
    )
    ids = reminders_plan()
    assert len(ids) == 1

    handler = StallingHandler()
    smtp_port = free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    broker = broker_url
    first = second = None
    try:
        with celery_app(broker) as app:
            app.control.purge()
            enqueue(send_reminders, ids)
            first = _worker(smtp_port, broker, "w1")
            assert handler.entered.wait(90), "the worker never reached the SMTP server"
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            handler.release.set()
            reminder = Reminder.objects.get(pk=ids[0])
            assert wait_for(lambda: Reminder.objects.get(pk=ids[0]).state == "pending", 10)
            assert handler.delivered == []

            second = _worker(smtp_port, broker, "w2")  # the unacknowledged task comes back
            sent = lambda: Reminder.objects.get(pk=ids[0]).state == "sent"  # noqa: E731
            if not wait_for(sent, 30):
                # The broker has not handed the task back yet: the beat pass re-plans every
                # reminder left pending (here at once), as it would in production.
                settings.GUICHET_REMINDER_RETRY_MINUTES = 0
                run_all()
            assert wait_for(sent, 60)
            assert wait_for(lambda: len(handler.delivered) == 1, 10)
            reminders_send(ids)  # a late retry finds nothing left to send
            wait_for(lambda: False, timeout=3)
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        smtp.stop()
    reminder.refresh_from_db()
    assert reminder.state == "sent" and reminder.attempts == 1
    assert len(handler.delivered) == 1
    assert porteur.email in handler.delivered[0].rcpt_tos
    assert b"Message-ID: <reminder-" in handler.delivered[0].original_content
