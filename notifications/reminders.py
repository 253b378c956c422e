"""Deadline reminders: planned by a sweep, sent exactly once.

Planning reads only the deadlines that have a reminder due today: for each offset (D-30,
D-7, D-1, the day itself, and the escalations after the due date) one small range of due
dates, through the partial index on open deadlines. A reminder row per (deadline, due date,
offset, recipient) is inserted with ON CONFLICT DO NOTHING: the unique key, not luck, makes
it exactly once. Sending locks the row (SKIP LOCKED), re-checks it is still pending and
that its deadline is still open on the same date, delivers, then marks it sent in the same
transaction: a worker killed before the commit leaves it pending for a retry.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import Case, FundingRequest
from engine.models import Deadline
from schemes.models import Territory

from .channels import notify_in_app, send_email
from .labels import PARTY_LABELS, deadline_label, when_label
from .models import Reminder
from .recipients import Recipients

log = logging.getLogger(__name__)

BATCH = 2000
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


def reminders_plan(*, today: dt.date | None = None) -> list[int]:
    """Insert the reminders due today; return the ids of those still to send."""
    today = today or timezone.localdate()
    started = timezone.now()
    offsets = _scheme_offsets()
    fr_type = None
    # Open deadlines at their reminders and escalations, and missed ones (revised rule 7:
    # the sweep marks them the day after) at their escalations: each read through its
    # partial index on due dates.
    rows = (
        Deadline.objects.filter(
            (Q(state=Deadline.State.OPEN) & _due_filter(today, offsets))
            | (Q(state=Deadline.State.MISSED) & _escalation_filter(today))
        )
        .values_list(
            "id", "due_on", "party", "aggregate_id", "subject_type_id", "subject_id", "state"
        )
        .order_by()
    )
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
    new: list[Reminder] = []
    for deadline_id, due_on, party, case_id, type_id, subject_id, state in rows:
        offsets = (
            offsets_by_fr.get(subject_id, DEFAULT_OFFSETS)
            if type_id == fr_type
            else (DEFAULT_OFFSETS)
        )
        # a missed deadline only escalates: its reminders « before » are over
        o = current_offset(due_on, today, offsets) if state == Deadline.State.OPEN else None
        if o is not None:
            for uid in recipients.party(case_id, party):
                new.append(
                    Reminder(deadline_id=deadline_id, due_on=due_on, offset=o, recipient_id=uid)
                )
        for after, audience in escalations():
            start = due_on + dt.timedelta(days=after)
            if start <= today <= start + dt.timedelta(days=catchup_days()):
                users = (
                    recipients.director(case_id)
                    if audience == "director"
                    else recipients.referent(case_id)
                )
                for uid in users:
                    new.append(
                        Reminder(
                            deadline_id=deadline_id,
                            due_on=due_on,
                            offset=-after,
                            recipient_id=uid,
                            escalation=True,
                        )
                    )
    Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)


def reminder_send(reminder_id: int, *, today: dt.date | None = None) -> bool:
    """Deliver one reminder if it is still due. Returns True when sent now.

    In one transaction: lock the pending row, cancel it if its deadline moved or closed,
    word it, deliver it (in-app and e-mail), mark it sent (ADR 003)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        reminder = _lock_pending(reminder_id)
        if reminder is None:
            return False
        if not _still_due(reminder):
            return False
        case = (
            Case.objects.filter(pk=reminder.deadline.aggregate_id)
            .only("pk", "reference", "title", "territory_id")
            .first()
        )
        _deliver(reminder, case, today)
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


def _still_due(reminder: Reminder) -> bool:
    """Whether its deadline is still open on the same date (or missed, for an escalation:
    revised rule 7); if not, the reminder is cancelled."""
    deadline = reminder.deadline
    states = [Deadline.State.OPEN]
    if reminder.escalation:
        states.append(Deadline.State.MISSED)
    if deadline.state in states and deadline.due_on == reminder.due_on:
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


def _deliver(reminder: Reminder, case: Case | None, today: dt.date) -> None:
    """In-app notification and e-mail, both keyed on the reminder (no double delivery)."""
    deadline = reminder.deadline
    what = deadline_label(deadline.kind)
    subject, message = _wording(reminder, case, what, today)
    notify_in_app(
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
    )


class ReminderBusy(Exception):
    """The reminder is pending but locked by another transaction: a sender still at work,
    or one that died and whose session the database has not closed yet. Try again later."""


def reminders_send(ids, *, today: dt.date | None = None, busy: list | None = None) -> int:
    """Send these reminders; the ids found busy are appended to ``busy`` for a retry."""
    sent = 0
    for reminder_id in ids:
        try:
            sent += reminder_send(reminder_id, today=today)
        except ReminderBusy:
            if busy is not None:
                busy.append(reminder_id)
        except Exception:  # one failing delivery must not block the others; retried later
            log.exception("reminder %s not sent", reminder_id)
    return sent
