"""The sweep: every open deadline whose last day has passed is settled (revised rule 7).

A deadline with an expiry transition (« réputé complet ») has it applied first: the
deadline is then ``met`` if the subject moved (by the transition's own closing, or here),
``missed`` if the transition could not apply (the reason is kept in its ``note``). A
deadline without one becomes ``missed``: nothing stays ``open`` in the past, and missed
deadlines keep escalating (``notifications.reminders``). The sweep never lapses a grant:
the funder records it (rule 5).

Safe to run twice at once: each deadline with an expiry is claimed with ``SELECT … FOR
UPDATE SKIP LOCKED`` and re-checked under the lock, so one run applies it and the other
skips it; the plain ones are marked by one ``UPDATE`` per batch whose ``WHERE`` re-checks
that they are still open. It reads only what is due (partial index on open deadlines by
due date), in batches of ids: bounded memory, whatever the backlog.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from .errors import DomainError
from .models import Deadline
from .transitions import transition_apply

log = logging.getLogger(__name__)

BATCH = 500


def overdue_ids(*, today: dt.date, after_id: int = 0, limit: int = BATCH) -> list[tuple[int, str]]:
    """The next batch of open deadlines whose last day has passed: ``(id, expiry)``."""
    return list(
        Deadline.objects.filter(state=Deadline.State.OPEN, due_on__lt=today, id__gt=after_id)
        .order_by("id")
        .values_list("id", "expiry_transition")[:limit]
    )


def sweep_expired(*, today: dt.date | None = None) -> int:
    """Settle every overdue open deadline; return the number of expiry transitions
    applied (the deadlines only marked ``missed`` are not counted)."""
    today = today or timezone.localdate()
    applied = 0
    last_id = 0
    while True:
        rows = overdue_ids(today=today, after_id=last_id)
        if not rows:
            break
        last_id = rows[-1][0]
        _mark_missed([pk for pk, expiry in rows if not expiry], today)
        for deadline_id, expiry in rows:
            if expiry and _expire_one(deadline_id, today):
                applied += 1
    return applied


def _mark_missed(ids: list[int], today: dt.date) -> int:
    """The plain deadlines of a batch, in one statement (still open, still overdue)."""
    if not ids:
        return 0
    return Deadline.objects.filter(pk__in=ids, state=Deadline.State.OPEN, due_on__lt=today).update(
        state=Deadline.State.MISSED, closed_at=timezone.now()
    )


def _expire_one(deadline_id: int, today: dt.date) -> bool:
    with transaction.atomic():
        deadline = (
            # of=("self",): lock the deadline only, not the shared content-type row of the
            # join, else a concurrent sweep would skip every deadline of the same model.
            Deadline.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=deadline_id, state=Deadline.State.OPEN, due_on__lt=today)
            .select_related("subject_type")
            .first()
        )
        if deadline is None:
            return False
        model = deadline.subject_type.model_class()
        subject = model._default_manager.filter(pk=deadline.subject_id).first()
        if subject is None:
            _settle(deadline, Deadline.State.MISSED, "Objet supprimé.")
            return False
        try:
            transition_apply(
                instance=subject,
                name=deadline.expiry_transition,
                actor=None,
                comment=f"Automatique : échéance « {deadline.kind} » du {deadline.due_on:%d/%m/%Y}"
                " dépassée.",
                data={"deadline": deadline.pk, "date": deadline.due_on},
            )
        except DomainError as exc:
            # The subject moved on in a way that makes the expiry moot: record why.
            _settle(deadline, Deadline.State.MISSED, exc.message)
            log.info("expiry of deadline %s skipped: %s", deadline.pk, exc.message)
            return False
        deadline.refresh_from_db(fields=["state", "closed_at", "due_on"])
        if deadline.state == Deadline.State.OPEN and deadline.due_on < today:
            _settle(deadline, Deadline.State.MET)  # the subject moved; not re-planned
        return True


def _settle(deadline: Deadline, state: str, note: str = "") -> None:
    deadline.state = state
    deadline.closed_at = timezone.now()
    fields = ["state", "closed_at"]
    if note:
        deadline.note = note[:255]
        fields.append("note")
    deadline.save(update_fields=fields)
