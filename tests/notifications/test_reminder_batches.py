"""Reminders planned and sent by batches (issue 16, region scale): the same rows and the
same deliveries as one at a time, in a few statements per batch, the e-mails of a batch
through one SMTP session; a closed deadline or a failed e-mail touches only its reminder."""

import datetime as dt

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.deadlines import deadline_open, deadlines_close
from notifications import reminders
from notifications.models import Notification, Reminder
from notifications.reminders import reminders_plan, reminders_send

from .builders import people
from .test_delivery import _draft

pytestmark = pytest.mark.django_db


class CountingBackend(LocmemBackend):
    """The test outbox, counting the sessions opened (as the SMTP backend: one per call
    unless the caller keeps it open) and refusing the message whose id holds ``refused``."""

    opened = 0
    refused = "nothing"

    def open(self):
        if getattr(self, "_is_open", False):
            return False
        self._is_open = True
        CountingBackend.opened += 1
        return True

    def close(self):
        self._is_open = False

    def send_messages(self, messages):
        new = self.open()
        try:
            if any(self.refused in m.extra_headers.get("Message-ID", "") for m in messages):
                raise OSError("refused by the server")
            return super().send_messages(messages)
        finally:
            if new:
                self.close()


def _deadlines(n: int, porteur, agent):
    due = timezone.localdate() + dt.timedelta(days=7)
    cases = [_draft(porteur, agent) for _ in range(n)]
    for case in cases:
        deadline_open(
            subject=case, aggregate_id=case.pk, kind="documents", due_on=due, party="porteur"
        )
    return cases


def test_plan_inserts_each_reminder_once_in_a_few_statements(monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 2)  # several batches
    porteur, agent, _, _ = people()
    _deadlines(5, porteur, agent)
    inserted = []
    insert = reminders._insert_reminders
    monkeypatch.setattr(
        reminders, "_insert_reminders", lambda rows: [inserted.append(len(rows)), insert(rows)]
    )
    ids = reminders_plan()
    assert len(ids) == 5
    rows = Reminder.objects.filter(pk__in=ids)
    assert {(r.offset, r.recipient_id, r.state, r.escalation, r.attempts) for r in rows} == {
        (7, porteur.pk, "pending", False, 0)
    }
    assert inserted == [2, 2, 1]  # one statement per batch of 2, not one per reminder
    assert reminders_plan() == []  # planned again: nothing new (the pending are in hand)
    assert Reminder.objects.count() == 5


def test_send_batch_one_session_cancels_the_closed_and_keeps_the_refused(settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.notifications.test_reminder_batches.CountingBackend"
    monkeypatch.setattr(reminders, "SEND_BATCH", 3)
    monkeypatch.setattr(CountingBackend, "opened", 0)
    porteur, agent, _, _ = people()
    cases = _deadlines(6, porteur, agent)
    ids = reminders_plan()
    by_case = dict(Reminder.objects.filter(pk__in=ids).values_list("deadline__aggregate_id", "pk"))
    closed, refused = by_case[cases[1].pk], by_case[cases[4].pk]
    deadlines_close(subject=cases[1], kinds=["documents"])
    monkeypatch.setattr(CountingBackend, "refused", f"<reminder-{refused}@")
    mail.outbox.clear()

    with CaptureQueriesContext(connection) as sending:
        assert reminders_send(ids) == 4
    states = dict(Reminder.objects.filter(pk__in=ids).values_list("pk", "state"))
    assert states.pop(closed) == "cancelled"
    assert states.pop(refused) == "pending"  # left for the next pass, the others sent
    assert set(states.values()) == {"sent"}
    assert set(Reminder.objects.filter(pk__in=states).values_list("attempts", flat=True)) == {1}
    assert len(mail.outbox) == 4
    assert {m.extra_headers["Message-ID"].split("@")[0] for m in mail.outbox} == {
        f"<reminder-{pk}" for pk in states
    }
    notes = Notification.objects.filter(user=porteur, kind="reminder")
    assert sorted(notes.values_list("dedup_key", flat=True)) == sorted(
        f"reminder:{pk}" for pk in states
    )
    assert CountingBackend.opened == 2  # one session, and a new one after the refusal
    assert len(sending.captured_queries) <= 16  # two batches, not seven statements a reminder

    monkeypatch.setattr(CountingBackend, "refused", "nothing")
    assert reminders_send(ids) == 1  # the next pass: only the refused one, once
    assert Reminder.objects.get(pk=refused).state == "sent"
    assert notes.count() == 5 and len(mail.outbox) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_planning_batch_commits_without_waiting_for_the_disk_and_only_it(monkeypatch):
    """Each batch's insert runs in its own transaction with ``synchronous_commit`` off
    (``SET LOCAL``): the setting ends with it, the connection's next transactions — the
    sending's, which mark reminders sent — wait for the disk as before."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (marker « postgres »)")
    seen = []
    insert = reminders._insert_reminders

    def spy(rows):
        insert(rows)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(reminders, "BATCH", 2)
    monkeypatch.setattr(reminders, "_insert_reminders", spy)
    porteur, agent, _, _ = people()
    _deadlines(3, porteur, agent)
    with connection.cursor() as cursor:  # the session's setting (the test settings lower it)
        cursor.execute("SET synchronous_commit TO on")
    ids = reminders_plan()
    assert len(ids) == 3 and Reminder.objects.filter(pk__in=ids).count() == 3
    assert seen == ["on", "on"]  # after each batch's commit: back to the session's setting
