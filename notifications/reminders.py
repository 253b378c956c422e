"""Deadline reminders: planned by a sweep, sent exactly once.

Planning reads only the deadlines that have a reminder due today: for each offset (D-30,
D-7, D-1, the day itself, and the escalations after the due date) one small range of due
dates, through the partial index on open deadlines. A reminder row per (deadline, due date,
offset, recipient) is inserted with ON CONFLICT DO NOTHING: the unique key, not luck, makes
it exactly once; on PostgreSQL a batch of them in one ``INSERT … SELECT FROM unnest``
(region scale, issue 16: no model instance per row). Sending locks the rows (SKIP
LOCKED), re-checks they are still pending and that their deadline is still open on the
same date, delivers, then marks them sent in the same transaction — ``SEND_BATCH`` at a
time, their e-mails through one SMTP session: a worker killed before the commit leaves
them pending for a retry.
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg
from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.models import Case, FundingRequest
from engine.models import Deadline
from engine.pg_arrays import array_literal
from schemes.models import Territory

from .channels import in_app, send_email
from .labels import PARTY_LABELS, deadline_label, when_label
from .models import Notification, Reminder
from .recipients import Recipients

log = logging.getLogger(__name__)

BATCH = 5000
SEND_BATCH = 50  # reminders delivered per transaction
DEFAULT_OFFSETS = (30, 7, 1, 0)


def catchup_days() -> int:
    return int(getattr(settings, "GUICHET_REMINDER_CATCHUP_DAYS", 3))


def escalations() -> tuple[tuple[int, str], ...]:
    """(days after the due date, audience): the referent agent, then the director."""
    return tuple(getattr(settings, "GUICHET_ESCALATIONS", ((1, "referent"), (8, "director"))))


def _scheme_offsets() -> set[int]:
    from schemes.models import Scheme

    offsets = set(DEFAULT_OFFSETS)
    for row in Scheme.objects.values_list("reminder_offsets", flat=True):
        offsets.update(int(o) for o in (row or []) if isinstance(o, int | float))
    return offsets


def _due_filter(today: dt.date, offsets: set[int]) -> Q:
    span = dt.timedelta(days=catchup_days())
    q = Q()
    for o in offsets:
        day = today + dt.timedelta(days=o)
        q |= Q(due_on__gte=day - span, due_on__lte=day)
    return q | _escalation_filter(today)


def _escalation_filter(today: dt.date) -> Q:
    """The due dates whose escalations (after the date) fall today, catch-up included."""
    span = dt.timedelta(days=catchup_days())
    q = Q()
    for after, _ in escalations():
        day = today - dt.timedelta(days=after)
        q |= Q(due_on__gte=day - span, due_on__lte=day)
    return q


def current_offset(due_on: dt.date, today: dt.date, offsets) -> int | None:
    """The latest reminder reached on ``today``, if it is still within the catch-up window."""
    reached = [o for o in offsets if due_on - dt.timedelta(days=o) <= today]
    if not reached:
        return None
    o = min(reached)
    if due_on - dt.timedelta(days=o) < today - dt.timedelta(days=catchup_days()):
        return None
    return o


def due_deadlines(today: dt.date, offsets: set[int]):
    """Open deadlines at their reminders and escalations, and missed ones (revised rule 7:
    the sweep marks them the day after) at their escalations: each read through its
    partial index on due dates. Rows of (id, due_on, party, aggregate_id, subject_type_id,
    subject_id, state)."""
    return (
        Deadline.objects.filter(
            (Q(state=Deadline.State.OPEN) & _due_filter(today, offsets))
            | (Q(state=Deadline.State.MISSED) & _escalation_filter(today))
        )
        .values_list(
            "id", "due_on", "party", "aggregate_id", "subject_type_id", "subject_id", "state"
        )
        .order_by()
    )


def reminders_plan(*, today: dt.date | None = None) -> list[int]:
    """Insert the reminders due today; return the ids of those still to send."""
    today = today or timezone.localdate()
    started = timezone.now()
    rows = due_deadlines(today, _scheme_offsets())
    from django.contrib.contenttypes.models import ContentType

    fr_type = ContentType.objects.get_for_model(FundingRequest).pk
    batch: list[tuple] = []
    for row in rows.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) >= BATCH:
            _plan_batch(batch, today, fr_type)
            batch = []
    if batch:
        _plan_batch(batch, today, fr_type)
    stuck_before = started - dt.timedelta(
        minutes=int(getattr(settings, "GUICHET_REMINDER_RETRY_MINUTES", 10))
    )
    return list(
        Reminder.objects.filter(state=Reminder.State.PENDING)
        .filter(Q(created_at__gte=started) | Q(created_at__lt=stuck_before))
        .order_by("id")
        .values_list("id", flat=True)
    )


def _plan_batch(rows: list[tuple], today: dt.date, fr_type: int) -> None:
    recipients = Recipients({r[3] for r in rows})
    fr_ids = [r[5] for r in rows if r[4] == fr_type]
    offsets_by_fr = {
        pk: tuple(offs or DEFAULT_OFFSETS)
        for pk, offs in FundingRequest.objects.filter(pk__in=fr_ids).values_list(
            "pk", "scheme__reminder_offsets"
        )
    }
    catchup = dt.timedelta(days=catchup_days())
    steps = [(after, audience, dt.timedelta(days=after)) for after, audience in escalations()]
    new: list[tuple] = []  # (deadline_id, due_on, offset, recipient_id, escalation)
    reached: dict[tuple, int | None] = {}
    for deadline_id, due_on, party, case_id, type_id, subject_id, state in rows:
        offsets = (
            offsets_by_fr.get(subject_id, DEFAULT_OFFSETS)
            if type_id == fr_type
            else (DEFAULT_OFFSETS)
        )
        # a missed deadline only escalates: its reminders « before » are over
        o = None
        if state == Deadline.State.OPEN:
            key = (due_on, offsets)  # many deadlines share a date: computed once per batch
            if key not in reached:
                reached[key] = current_offset(due_on, today, offsets)
            o = reached[key]
        if o is not None:
            for uid in recipients.party(case_id, party):
                new.append((deadline_id, due_on, o, uid, False))
        for after, audience, delta in steps:
            start = due_on + delta
            if start <= today <= start + catchup:
                users = (
                    recipients.director(case_id)
                    if audience == "director"
                    else recipients.referent(case_id)
                )
                for uid in users:
                    new.append((deadline_id, due_on, -after, uid, True))
    _insert_reminders(new)


def _insert_reminders(rows: list[tuple]) -> None:
    """Pending reminders from (deadline_id, due_on, offset, recipient_id, escalation) rows;
    a row already there is skipped (the unique key). On PostgreSQL one ``INSERT … SELECT
    FROM unnest(arrays)`` for the whole batch, without a model instance per row."""
    if not rows:
        return
    now = timezone.now()
    if connection.vendor != "postgresql":
        Reminder.objects.bulk_create(
            [
                Reminder(deadline_id=d, due_on=due, offset=o, recipient_id=u, escalation=e)
                for d, due, o, u, e in rows
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        return
    # each column as one array literal: psycopg dumps a list value by value in Python
    deadlines, dues, offsets, users, escalated = (
        array_literal(col) for col in zip(*rows, strict=True)
    )
    connection.ensure_connection()
    # a server-side bound cursor: the arrays are sent as parameters, not quoted into the text
    with transaction.atomic(), psycopg.Cursor(connection.connection) as cursor:
        # The batch's commit does not wait for its WAL to reach the disk (a flush per
        # batch was a third of a sweep's time): planned reminders are rebuilt by the next
        # sweep (this insert skips what exists), and a reminder is only sent by a
        # transaction that waits for the disk, which flushes this one first. A crash can
        # lose the last fraction of a second of planning, never a sent mark.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f'INSERT INTO {Reminder._meta.db_table} (deadline_id, due_on, "offset", '
            "recipient_id, escalation, state, created_at, attempts) "
            "SELECT d, due, o, u, e, %s, %s, 0 FROM unnest(%s::bigint[], %s::date[], "
            "%s::smallint[], %s::bigint[], %s::boolean[]) AS t(d, due, o, u, e) "
            "ON CONFLICT DO NOTHING",
            [Reminder.State.PENDING, now, deadlines, dues, offsets, users, escalated],
        )


def reminder_send(reminder_id: int, *, today: dt.date | None = None, mail=None) -> bool:
    """Deliver one reminder if it is still due. Returns True when sent now.

    In one transaction: lock the pending row, cancel it if its deadline moved or closed,
    word it, deliver it (in-app and e-mail, through ``mail``: an e-mail backend the caller
    keeps open, if any), mark it sent (ADR 003)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        reminder = _lock_pending(reminder_id)
        if reminder is None:
            return False
        if not _still_due(reminder):
            return False
        case = (
            Case.objects.filter(pk=reminder.deadline.aggregate_id)
            .only("pk", "reference", "title", "territory_id", "state")
            .first()
        )
        _deliver(reminder, case, today, mail)
        reminder.state = Reminder.State.SENT
        reminder.sent_at = timezone.now()
        reminder.attempts += 1
        reminder.save(update_fields=["state", "sent_at", "attempts"])
        return True


def _lock_pending(reminder_id: int) -> Reminder | None:
    """The reminder, locked, if it is pending and nobody else holds it; None if it is no
    longer pending. ``ReminderBusy`` if another transaction holds it."""
    reminder = (
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("deadline", "recipient")
        .filter(pk=reminder_id, state=Reminder.State.PENDING)
        .first()
    )
    if reminder is None and (
        Reminder.objects.filter(pk=reminder_id, state=Reminder.State.PENDING).exists()
    ):
        raise ReminderBusy(reminder_id)  # someone holds it: a sender, or a dead one
    return reminder


def _is_due(reminder: Reminder) -> bool:
    """Whether its deadline is still open on the same date (or missed, for an escalation:
    revised rule 7)."""
    deadline = reminder.deadline
    states = [Deadline.State.OPEN]
    if reminder.escalation:
        states.append(Deadline.State.MISSED)
    return deadline.state in states and deadline.due_on == reminder.due_on


def _still_due(reminder: Reminder) -> bool:
    """``_is_due``; if not, the reminder is cancelled."""
    if _is_due(reminder):
        return True
    reminder.state = Reminder.State.CANCELLED
    reminder.save(update_fields=["state"])
    return False


def _wording(reminder: Reminder, case: Case | None, what: str, today: dt.date) -> tuple[str, str]:
    """(subject, message) of a reminder, or of an escalation once the date has passed."""
    deadline = reminder.deadline
    days = (deadline.due_on - today).days
    ref = f"{case.reference} « {case.title} »" if case else f"n° {deadline.aggregate_id}"
    if reminder.escalation:
        subject = f"Échéance dépassée — {what}"
        message = (
            f"Retard sur le dossier {ref} : « {what} », échéance du "
            f"{deadline.due_on:%d/%m/%Y}, {when_label(days)}. Doit agir : "
            f"{PARTY_LABELS.get(deadline.party, deadline.party)}."
        )
    else:
        subject = f"Rappel — {what} ({when_label(days)})"
        message = (
            f"Dossier {ref} : « {what} » avant le {deadline.due_on:%d/%m/%Y} ({when_label(days)})."
        )
    return subject, message


def _deliver(reminder: Reminder, case: Case | None, today: dt.date, mail=None) -> None:
    """In-app notification and e-mail, both keyed on the reminder (no double delivery)."""
    note = _email(reminder, case, today, mail)
    Notification.objects.bulk_create([note], ignore_conflicts=True)  # a repeat is absorbed


def _email(reminder: Reminder, case: Case | None, today: dt.date, mail) -> Notification:
    """Send the reminder's e-mail; return its in-app notification, not saved yet."""
    deadline = reminder.deadline
    what = deadline_label(deadline.kind)
    subject, message = _wording(reminder, case, what, today)
    note = in_app(
        user_id=reminder.recipient_id,
        kind="escalation" if reminder.escalation else "reminder",
        message=message,
        dedup_key=f"reminder:{reminder.pk}",
        subject=deadline,
        aggregate_id=deadline.aggregate_id,
    )
    send_email(
        to=[reminder.recipient.email],
        subject=subject,
        template="reminder",
        context={
            "user": reminder.recipient,
            "message": message,
            "deadline": deadline,
            "case": case,
            "what": what,
            "escalation": reminder.escalation,
            "territory_name": Territory.name_of(case.territory_id if case else None),
        },
        message_id=f"reminder-{reminder.pk}",
        connection=mail,
    )
    return note


class ReminderBusy(Exception):
    """The reminder is pending but locked by another transaction: a sender still at work,
    or one that died and whose session the database has not closed yet. Try again later."""


def reminders_send(ids, *, today: dt.date | None = None, busy: list | None = None) -> int:
    """Send these reminders, ``SEND_BATCH`` at a time; the ids found busy are appended to
    ``busy`` for a retry.

    Their e-mails go through one connection (one SMTP session, not one per message); after
    a failed delivery it is closed, and opened again by the next one."""
    today = today or timezone.localdate()
    sent = 0
    mail = get_connection()
    try:
        for start in range(0, len(ids), SEND_BATCH):
            chunk = list(ids[start : start + SEND_BATCH])
            try:
                mail.open()  # kept open for the batches; a no-op when it already is
                sent += _send_batch(chunk, today, mail, busy)
            except Exception:  # one failing batch must not block the others; retried later
                log.exception("reminders %s not sent", chunk)
                _close_quietly(mail)
    finally:
        _close_quietly(mail)
    return sent


def _send_batch(ids: list[int], today: dt.date, mail, busy: list | None) -> int:
    """One transaction for the batch, a few statements whatever its size (ADR 003 as in
    ``reminder_send``): lock its pending rows (SKIP LOCKED; the others still pending are
    busy), cancel those whose deadline moved or closed, send the e-mails of the others, then
    write their in-app notifications and mark them sent. A failed e-mail leaves its reminder
    pending without blocking the others; a worker killed before the commit leaves the whole
    batch pending (e-mails already sent then go again, with the same Message-ID)."""
    with transaction.atomic():
        locked = list(
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("deadline", "recipient")
            .filter(pk__in=ids, state=Reminder.State.PENDING)
            .order_by("pk")
        )
        held = set(ids) - {r.pk for r in locked}
        if held and busy is not None:
            pending = Reminder.objects.filter(pk__in=held, state=Reminder.State.PENDING)
            busy.extend(pending.values_list("pk", flat=True))
        due = [r for r in locked if _is_due(r)]
        stale = {r.pk for r in locked} - {r.pk for r in due}
        if stale:
            Reminder.objects.filter(pk__in=stale).update(state=Reminder.State.CANCELLED)
        cases = Case.objects.only("pk", "reference", "title", "territory_id", "state").in_bulk(
            {r.deadline.aggregate_id for r in due}
        )
        notes, delivered = [], []
        for reminder in due:
            try:
                notes.append(
                    _email(reminder, cases.get(reminder.deadline.aggregate_id), today, mail)
                )
            except Exception:  # left pending: retried by the next pass
                log.exception("reminder %s not sent", reminder.pk)
                _close_quietly(mail)
                continue
            delivered.append(reminder.pk)
        Notification.objects.bulk_create(notes, ignore_conflicts=True)
        Reminder.objects.filter(pk__in=delivered).update(
            state=Reminder.State.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1
        )
        return len(delivered)


def _close_quietly(mail) -> None:
    try:
        mail.close()
    except Exception:  # a broken session: the next message opens a new one
        log.warning("e-mail connection not closed cleanly", exc_info=True)
