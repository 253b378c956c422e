"""The transition service, for one item or many: ``transitions_apply_batch``.

``engine.transitions.transition_apply`` is this service with one item. With N items of
one transition (a bulk call), every item is checked with the same rules — role, object
right, availability, input, guard under the lock of its aggregate's root — and the writes
are grouped, so that a chunk costs a bounded number of statements whatever its size:

- before any lock, per item and without the database: role and object right, the
  transition's availability (django-fsm), the comment and the declared fields;
- one transaction: the roots of the items' aggregates locked in one ordered
  ``SELECT … FOR UPDATE`` (one lock order: no deadlock between two batches), then the
  items' rows, compared with the state each caller read (409 otherwise) and refreshed;
- the items are applied in *waves*: a wave holds at most one item per aggregate, so a
  guard that reads its aggregate's other rows (a ceiling, the decisions of all requests)
  sees the writes of the items of the same aggregate applied before it, as one by one;
- per wave: the guards; the transitions in memory (django-fsm), their history rows
  (``engine.history``) dated and inserted at once; the rows saved in one ``UPDATE``; the
  deadlines they meet closed in one ``UPDATE``; the effects and hooks (a hook registered
  with a ``batch`` variant runs once for the wave); the outbox events in one ``INSERT``.

In a batch (``isolate``), each wave runs in a savepoint: an item refused by its guard, its
effect or a per-item hook (a ``DomainError``) is refused alone — the wave is rolled back
and applied again without it; an error no item can be blamed for (a batch hook) makes the
wave apply its items one by one, each in its own savepoint. ``transition_apply`` (one item,
not isolated) takes no savepoint: any error rolls the transaction back and is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models, router, transaction
from django_fsm import ConcurrentTransition

from .deadlines import deadlines_cancel_aggregates, deadlines_close_many
from .errors import ConcurrentChange, DomainError
from .history import history_buffer, history_write
from .outbox import events_emit
from .prepared import prepared_rows
from .transitions import (
    ModelRegistration,
    TransitionContext,
    TransitionSpec,
    _available,
    _event_time,
    _permitted,
    _read_inputs,
    _reset_state,
    hooks_for_batch,
    lock_related,
    registration_for,
)


@dataclass
class BatchItem:
    instance: models.Model
    comment: str = ""
    data: dict | None = None


class _Refused(Exception):
    """Items of a wave refused (index → error): the wave is applied again without them."""

    def __init__(self, refusals: dict[int, DomainError]):
        super().__init__()
        self.refusals = refusals


def transitions_apply_batch(
    *,
    model: type[models.Model],
    name: str,
    actor=None,
    items: Sequence[BatchItem],
    isolate: bool = True,
) -> list[DomainError | None]:
    """Apply the transition ``name`` to each item; per item, None (applied) or the
    ``DomainError`` that refused it. ``isolate=False`` (``transition_apply``, one item):
    the first error is raised and rolls everything back, no savepoint. Callers of many
    items run this inside their own transaction (a chunk)."""
    reg = registration_for(model)
    outcome: list[DomainError | None] = [None] * len(items)
    run = _Run(reg, isolate, outcome)
    ctxs: dict[int, TransitionContext] = {}
    for i, item in enumerate(items):
        try:
            _reg, spec = _permitted(item.instance, name, actor)
            source = _available(item.instance, reg, spec)
            ctxs[i] = _read_inputs(item.instance, spec, actor, item.comment, item.data, source)
        except DomainError as exc:
            run.refuse(i, exc)
    if not ctxs:
        return outcome
    run.spec = reg.specs[name]
    try:
        with transaction.atomic():
            for wave in _waves(reg, run.lock(ctxs)):
                run.wave(wave)
    except ConcurrentTransition:
        run.reset_all()
        raise ConcurrentChange() from None
    except BaseException:
        run.reset_all()
        raise
    return outcome


def _waves(reg: ModelRegistration, ready: dict[int, TransitionContext]) -> list[list]:
    """The k-th wave holds the k-th item of each aggregate (the callers' order kept)."""
    waves: list[list] = []
    rank: dict = {}
    for i, ctx in ready.items():
        key = reg.aggregate(ctx.instance)
        k = rank[key] = rank.get(key, -1) + 1
        if k == len(waves):
            waves.append([])
        waves[k].append((i, ctx))
    return waves


class _Run:
    def __init__(self, reg: ModelRegistration, isolate: bool, outcome: list):
        self.reg = reg
        self.isolate = isolate
        self.outcome = outcome
        self.spec: TransitionSpec | None = None
        self.snapshots: dict[int, dict] = {}
        self.ctxs: dict[int, TransitionContext] = {}

    # ------------------------------------------------------------ refusals

    def refuse(self, i: int, exc: DomainError) -> None:
        if not self.isolate:
            raise exc
        self.outcome[i] = exc

    def reset_all(self) -> None:
        for ctx in self.ctxs.values():
            _reset_state(ctx.instance, self.reg.state_field, ctx.source)

    # ------------------------------------------------------------ locks

    def lock(self, ctxs: dict[int, TransitionContext]) -> dict[int, TransitionContext]:
        """The aggregates' roots, then the items' rows, each locked in one ordered query;
        returns the items whose row is still in the state their caller read, refreshed."""
        self.ctxs = ctxs
        reg, state_field = self.reg, self.reg.state_field
        roots = roots_lock_for(reg, [ctx.instance for ctx in ctxs.values()])
        model = reg.model
        fresh = rows_lock(model, [ctx.instance.pk for ctx in ctxs.values()])
        ready = {}
        for i, ctx in ctxs.items():
            row = fresh.get(ctx.instance.pk)
            if row is None:
                self.refuse(i, DomainError("Objet introuvable.", code="not_found"))
            elif getattr(row, state_field) != ctx.source:
                self.refuse(i, ConcurrentChange())
            else:
                _refresh(ctx.instance, row, state_field, roots.get(reg.aggregate(ctx.instance)))
                self.snapshots[i] = _snapshot(ctx.instance)
                ready[i] = ctx
        return ready

    # ------------------------------------------------------------ waves

    def wave(self, pending: list) -> None:
        if not self.isolate:
            self.attempt(pending)
            return
        while pending:
            try:
                with transaction.atomic():
                    self.attempt(pending)
                return
            except _Refused as refused:
                self.restore(pending)
                for i, exc in refused.refusals.items():
                    self.refuse(i, exc)
                pending = [(i, c) for i, c in pending if i not in refused.refusals]
            except DomainError as exc:
                self.restore(pending)
                if len(pending) == 1:
                    self.refuse(pending[0][0], exc)
                    return
                for one in pending:
                    self.wave([one])
                return

    def restore(self, pending: list) -> None:
        """After a rolled-back attempt: each object as it was read under the lock."""
        for i, ctx in pending:
            ctx.instance.__dict__.update(self.snapshots[i])
            ctx.target = ""
            update = getattr(ctx.instance, "_update_initial_state", None)
            if update:  # django-fsm's optimistic lock: the state as read
                update()

    def blame(self, i: int, exc: DomainError):
        if not self.isolate:
            raise exc
        raise _Refused({i: exc})

    def attempt(self, pending: list) -> None:
        """One wave: guards; transitions and their history; saves; deadlines; effects and
        hooks; outbox events."""
        spec, reg = self.spec, self.reg
        if spec.guard:
            refusals = {}
            for i, ctx in pending:
                try:
                    spec.guard(ctx)
                except DomainError as exc:
                    if not self.isolate:
                        raise
                    refusals[i] = exc
            if refusals:
                raise _Refused(refusals)
        with history_buffer() as rows:
            for _i, ctx in pending:
                getattr(ctx.instance, ctx.name)(
                    by=ctx.actor, description=ctx.comment or None, ctx=ctx
                )
                ctx.target = getattr(ctx.instance, reg.state_field)
        instances = [ctx.instance for _i, ctx in pending]
        self.save(pending)
        history_write(
            rows, {ctx.instance.pk: _event_time(ctx.data.get("date")) for _, ctx in pending}
        )
        if spec.closes:
            deadlines_close_many(subjects=instances, kinds=spec.closes)
        aggregates = {i: reg.aggregate(ctx.instance) for i, ctx in pending}
        if spec.terminal:
            deadlines_cancel_aggregates(aggregate_ids=set(aggregates.values()))
        self.effects_and_hooks(pending)
        events_emit([_event(ctx, aggregates[i]) for i, ctx in pending])

    def effects_and_hooks(self, pending: list) -> None:
        """The transition's own effect, then the hooks of the layers above (a hook with a
        batch variant once for the wave)."""
        if self.spec.batch_effect and len(pending) > 1:
            # one call for the wave: an error no item can be blamed for (the wave is then
            # applied item by item, each with ``effect``)
            self.spec.batch_effect([ctx for _i, ctx in pending])
        elif self.spec.effect:
            for i, ctx in pending:
                try:
                    self.spec.effect(ctx)
                except DomainError as exc:
                    self.blame(i, exc)
        for hook, batch in hooks_for_batch():
            if batch is not None:
                batch([ctx for _i, ctx in pending])
                continue
            for i, ctx in pending:
                try:
                    hook(ctx)
                except DomainError as exc:
                    self.blame(i, exc)

    def save(self, pending: list) -> None:
        """One item: its ``save`` (django-fsm's optimistic lock). Many: one ``UPDATE`` of
        the columns that changed (the rows are locked), ``auto_now`` columns included."""
        if len(pending) == 1:
            pending[0][1].instance.save()
            return
        model = self.reg.model
        fields = {}
        for i, ctx in pending:
            before = self.snapshots[i]
            for f in model._meta.concrete_fields:
                if f.primary_key:
                    continue
                if getattr(f, "auto_now", False):
                    f.pre_save(ctx.instance, False)
                    fields[f.name] = f
                elif ctx.instance.__dict__.get(f.attname) != before.get(f.attname):
                    fields[f.name] = f
        instances = [ctx.instance for _i, ctx in pending]
        model._default_manager.bulk_update(instances, list(fields))
        for instance in instances:
            update = getattr(instance, "_update_initial_state", None)
            if update:
                update()


def _event(ctx: TransitionContext, aggregate_id) -> dict:
    instance = ctx.instance
    return {
        "topic": f"{instance._meta.model_name}.{ctx.name}",
        "subject": instance,
        "aggregate_id": aggregate_id,
        "actor_id": getattr(ctx.actor, "pk", None),
        "payload": {
            "source": ctx.source,
            "target": ctx.target,
            "comment": ctx.comment,
            "data": ctx.data,
            "automatic": ctx.automatic,
        },
    }


# ---------------------------------------------------------------- locks


def rows_lock(model: type[models.Model], pks) -> dict:
    """``SELECT … FOR UPDATE`` of these rows, in the order of their ids (one lock order for
    every writer), read under the lock: id → object, with the foreign keys a layer asked
    for (``register_lock_related``: joined, not locked). On SQLite, whose write
    transactions are serialised, a plain read. One row (a single transition): its SQL
    compiled once (``engine.prepared``)."""
    pks = sorted(set(pks))
    related = lock_related(model)
    using = router.db_for_write(model)

    def locking(*ids):
        qs = model._default_manager.filter(pk__in=ids).order_by("pk")
        if related:
            return qs.select_related(*related).select_for_update(of=("self",))
        return qs.select_for_update()

    if len(pks) == 1:
        rows = prepared_rows(("engine.lock", model, related), locking, pks, using)
    else:
        rows = locking(*pks).using(using)
    return {obj.pk: obj for obj in rows}


def roots_lock_for(reg: ModelRegistration, instances) -> dict:
    """The roots of the instances' aggregates, locked (always before any of their
    children): root id → root row; empty when the model is its own root."""
    if reg.root is None or reg.root is reg.model:
        return {}
    ids = {reg.aggregate(instance) for instance in instances} - {None}
    return rows_lock(reg.root, ids) if ids else {}


def _snapshot(instance) -> dict:
    return {f.attname: instance.__dict__.get(f.attname) for f in instance._meta.concrete_fields}


def _refresh(instance, fresh, state_field: str, root=None) -> None:
    """Take the row's other fields as they are now, so that saving the transition never
    overwrites a concurrent edit (no lost update)."""
    for f in instance._meta.concrete_fields:
        if f.attname != state_field and not f.primary_key:
            instance.__dict__[f.attname] = fresh.__dict__[f.attname]
    # Related objects read before the lock (the request of a claim, the dossier of a
    # request) may be stale: the guards read them again, under the lock.
    instance._state.fields_cache.clear()
    getattr(instance, "_prefetched_objects_cache", {}).clear()
    for name in lock_related(type(instance)):  # read with the row, under the lock
        if name in fresh._state.fields_cache:
            instance._state.fields_cache[name] = fresh._state.fields_cache[name]
    if root is not None:  # the root row just read under its lock (e.g. a request's dossier)
        for f in instance._meta.concrete_fields:
            if f.is_relation and f.related_model is type(root):
                if getattr(instance, f.attname) == root.pk:
                    f.set_cached_value(instance, root)
