"""The lock of a dossier's agent-task process (``workflows.agent_tasks``): the live
process, read and locked with its open tasks in one statement, or through viewflow's lock
with a lock failure turned into a 409.

Lock order, for every writer of a dossier's tasks: the dossier's row, then the funding
request's (the engine's order: the aggregate's root first), then the process row."""

from __future__ import annotations

from contextlib import nullcontext

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from cases.models import Case
from engine.errors import ConcurrentChange
from engine.prepared import prepared_rows

from .flows import FLOWS

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
BUSY = "Le dossier est en cours de traitement par quelqu'un d'autre : réessayez."


def case_ct() -> ContentType:
    return ContentType.objects.get_for_model(Case)


def live_processes(case_id: int):
    """The dossier's live process first (at most one: created under the dossier's lock)."""
    return (
        Process.objects.filter(
            flow_class__in=FLOWS,
            artifact_content_type=case_ct(),
            artifact_object_id=case_id,
        )
        .exclude(status=PROCESS.CANCELED)
        .order_by("-created", "-pk")
    )


def case_process(case_id: int) -> Process | None:
    """The dossier's live process."""
    return live_processes(case_id).first()


class locked:
    """``flow_class.lock(pk)`` with a lock failure turned into a 409 domain error."""

    def __init__(self, flow_class, process_pk):
        self.cm = flow_class.lock(process_pk)

    def __enter__(self):
        try:
            return self.cm.__enter__()
        except FlowLockFailed:
            raise ConcurrentChange(BUSY) from None

    def __exit__(self, *exc):
        return self.cm.__exit__(*exc)


def held(flow_class, process_pk):
    """A ``lock_impl`` for a process row this transaction has already locked."""
    return nullcontext()


def _open_tasks_locking(ct_id: int, case_id: int):
    """The open tasks of the dossier's live process, joined to it, the process locked."""
    return (
        Task.objects.filter(
            process__flow_class__in=FLOWS,
            process__artifact_content_type_id=ct_id,
            process__artifact_object_id=case_id,
            status__in=OPEN,
        )
        .exclude(process__status=PROCESS.CANCELED)
        .select_related("process", "seed_content_type")
        .select_for_update(nowait=True, of=("process",))
        .order_by("-process__created", "-process__pk", "pk")
    )


def live_process_and_tasks_locked(
    case_id: int, using: str = "default"
) -> tuple[Process | None, list | None]:
    """The live process, locked, with its open tasks (by id), in one statement: the open
    tasks joined to their process, ``SELECT … FOR UPDATE OF`` the process ``NOWAIT``, in
    the caller's transaction (no savepoint). Every writer of a dossier's process holds the
    dossier's row lock first, so under that lock the process row is free; if something
    else holds it, a 409 as with ``locked``. A live process has an open task (its
    tracker) until it ends: when none is found, the process alone is read and locked, its
    tasks left to ``_align`` (None). The statement's SQL is compiled once
    (``engine.prepared``)."""
    try:
        tasks = prepared_rows(
            ("workflows.process_and_tasks",), _open_tasks_locking, [case_ct().pk, case_id], using
        )
        if not tasks:
            return live_processes(case_id).select_for_update(nowait=True).first(), None
    except DatabaseError:
        raise ConcurrentChange(BUSY) from None
    process = tasks[0].process
    tasks = [task for task in tasks if task.process_id == process.pk]
    for task in tasks:
        task.process = process  # one object for the process (viewflow re-reads it else)
    return process, tasks
