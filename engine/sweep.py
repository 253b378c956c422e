"""The sweep: automatic transitions whose deadline has passed.

Safe to run twice at once: each due deadline is claimed with ``SELECT … FOR UPDATE SKIP
LOCKED`` and re-checked under the lock, so one run applies it and the other skips it.
It reads only what is due (partial index on open deadlines by due date), in batches.
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


def due_expiry_ids(*, today: dt.date, after_id: int = 0, limit: int = BATCH) -> list[int]:
    return list(
        Deadline.objects.filter(state=Deadline.State.OPEN, due_on__lt=today, id__gt=after_id)
        .exclude(expiry_transition="")
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def sweep_expired(*, today: dt.date | None = None) -> int:
    """Apply the expiry transition of every open deadline whose last day has passed."""
    today = today or timezone.localdate()
    applied = 0
    last_id = 0
    while True:
        ids = due_expiry_ids(today=today, after_id=last_id)
        if not ids:
            break
        last_id = ids[-1]
        for deadline_id in ids:
            if _expire_one(deadline_id, today):
                applied += 1
    return applied


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
        deadline.state = Deadline.State.MISSED
        deadline.closed_at = timezone.now()
        deadline.save(update_fields=["state", "closed_at"])
        model = deadline.subject_type.model_class()
        subject = model._default_manager.filter(pk=deadline.subject_id).first()
        if subject is None:
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
            deadline.note = exc.message[:255]
            deadline.save(update_fields=["note"])
            log.info("expiry of deadline %s skipped: %s", deadline.pk, exc.message)
            return False
        return True
