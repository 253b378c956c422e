"""The one transition service: the only way any state changes.

In one database transaction it checks the actor's role and the object-level permission,
checks that the transition is available from the current state (django-fsm) and its
guard, applies it with optimistic locking (``ConcurrentTransitionMixin``: a concurrent
change raises ``ConcurrentChange``, a 409, never a lost update), records who/when/why
(django-fsm-log), closes the deadlines the transition settles, runs the hooks registered
by the layers above (deadlines to open, automatic follow-up transitions) and writes a
domain event to the outbox.

The engine knows nothing about funding: models register their transitions here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed

from . import inputs
from .deadlines import deadlines_cancel_aggregate, deadlines_close
from .errors import ConcurrentChange, DomainError, TransitionUnavailable
from .lifecycle import Field, Notice, State
from .outbox import event_emit

SYSTEM = "system"
ADMIN = "admin"


@dataclass
class TransitionContext:
    instance: models.Model
    name: str
    actor: Any  # a user, or None for an automatic transition
    comment: str
    data: dict
    source: str = ""
    target: str = ""
    today: dt.date = field(default_factory=timezone.localdate)

    @property
    def automatic(self) -> bool:
        return self.actor is None


Guard = Callable[[TransitionContext], None]
Effect = Callable[[TransitionContext], None]


@dataclass(frozen=True)
class TransitionSpec:
    """The one descriptor of a transition, beside its django-fsm definition: who may do it,
    what people read about it, what it reads (typed fields, parsed here before the guard),
    its guard and effect, the deadlines it meets, the notice it sends."""

    name: str
    roles: frozenset[str]
    label: str = ""  # the action, as a button says it (« Accorder »)
    guard: Guard | None = None
    effect: Effect | None = None
    closes: tuple[str, ...] = ()  # deadline kinds on the subject that this transition meets
    terminal: bool = False  # cancels every live deadline of the aggregate
    event: str = ""  # what happened, as a history says it (« aide accordée »)
    fields: tuple[Field, ...] = ()  # the input it reads, parsed before the guard
    notice: Notice | None = None  # what it tells whom
    danger: bool = False  # a destructive action (shown apart, asks for confirmation)
    porteur_action: bool = False  # offered as a button on the porteur's follow-up page

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class ModelRegistration:
    model: type[models.Model]
    state_field: str
    specs: dict[str, TransitionSpec]
    aggregate: Callable[[models.Model], int]
    authorize: Callable[[Any, models.Model, TransitionSpec], bool] | None = None
    # The model whose row ``aggregate`` names (e.g. the dossier): locked first, in the
    # transaction of every transition of the aggregate, so that rules spanning rows
    # (ceilings, the decisions of all requests) are checked on rows nobody else changes.
    root: type[models.Model] | None = None
    states: dict[str, State] = field(default_factory=dict)

    def state(self, code: str) -> State:
        """The descriptor of a state (``KeyError`` for an undeclared one: never a silent
        fallback; ``manage.py check`` proves every state of the machine is declared)."""
        return self.states[code]


_registry: dict[type[models.Model], ModelRegistration] = {}
_hooks: list[Effect] = []


def register(
    model: type[models.Model],
    *,
    specs: Iterable[TransitionSpec],
    aggregate: Callable[[models.Model], int],
    authorize: Callable[[Any, models.Model, TransitionSpec], bool] | None = None,
    state_field: str = "state",
    root: type[models.Model] | None = None,
    states: Iterable[State] = (),
) -> None:
    """Declare a machine: its transitions and states (labels come from the state field's
    choices, the one list of the database)."""
    choices = dict(model._meta.get_field(state_field).choices or ())
    _registry[model] = ModelRegistration(
        model=model,
        state_field=state_field,
        specs={s.name: s for s in specs},
        aggregate=aggregate,
        authorize=authorize,
        root=root,
        states={
            st.code: replace(st, label=st.label or str(choices.get(st.code, ""))) for st in states
        },
    )


def registrations() -> list[ModelRegistration]:
    return list(_registry.values())


def state_of(model: type[models.Model], code: str) -> State:
    """The descriptor of a state of a registered machine (``KeyError`` if undeclared)."""
    return registration_for(model).state(code)


def spec_of(model: type[models.Model], name: str) -> TransitionSpec:
    """The descriptor of a transition of a registered machine (``KeyError`` if
    undeclared: ``manage.py check`` proves every name used by the project is declared)."""
    return registration_for(model).specs[name]


def register_hook(hook: Effect) -> None:
    """A hook runs after every transition, in its transaction (e.g. open deadlines)."""
    if hook not in _hooks:
        _hooks.append(hook)


def registration_for(model: type[models.Model]) -> ModelRegistration:
    try:
        return _registry[model]
    except KeyError:
        raise DomainError("Objet sans cycle de vie.", code="not_found") from None


def role_of(actor) -> str:
    if actor is None:
        return SYSTEM
    if getattr(actor, "is_superuser", False):
        return ADMIN
    return getattr(actor, "role", "") or ""


def available_transitions(instance: models.Model, actor=None) -> list[str]:
    """Transitions the actor may attempt now (state, conditions, role and object rights).

    Guards that need input (a date, an amount) are checked at apply time, not here.
    """
    reg = registration_for(type(instance))
    role = role_of(actor)
    names = []
    for spec in reg.specs.values():
        if actor is not None and role != ADMIN and role not in spec.roles:
            continue
        if actor is None and SYSTEM not in spec.roles:
            continue
        if role == ADMIN and spec.roles == frozenset({SYSTEM}):
            continue
        method = getattr(instance, spec.name, None)
        if method is None or not can_proceed(method):
            continue
        if actor is not None and reg.authorize and not reg.authorize(actor, instance, spec):
            continue
        names.append(spec.name)
    return names


def transition_apply(
    *,
    instance: models.Model,
    name: str,
    actor=None,
    comment: str = "",
    data: dict | None = None,
) -> models.Model:
    """Apply a transition, in order: check the role and the object right, check the
    transition is available, read its input; then in one transaction: lock, guard, apply,
    record (history date, deadlines), effect and hooks, outbox event. On any failure the
    in-memory object keeps its source state."""
    reg, spec = _permitted(instance, name, actor)
    source = _available(instance, reg, spec)
    ctx = _read_inputs(instance, spec, actor, comment, data, source)
    try:
        with transaction.atomic():
            _lock(reg, instance, source)
            if spec.guard:
                spec.guard(ctx)
            _apply(instance, reg, ctx)
            aggregate_id = _record(instance, reg, spec, ctx)
            _run_effect_and_hooks(spec, ctx)
            _emit(instance, aggregate_id, ctx)
    except ConcurrentTransition:
        _reset_state(instance, reg.state_field, source)
        raise ConcurrentChange() from None
    except BaseException:
        _reset_state(instance, reg.state_field, source)
        raise
    return instance


def _permitted(
    instance: models.Model, name: str, actor
) -> tuple[ModelRegistration, TransitionSpec]:
    """The transition's registration and descriptor, if the actor's role and object right
    allow it (404 for an unknown transition, 403 for a refused actor)."""
    reg = registration_for(type(instance))
    spec = transition_role_check(reg, name, actor)
    if actor is not None and reg.authorize and not reg.authorize(actor, instance, spec):
        raise DomainError("Vous n'êtes pas habilité à agir sur cet objet.", code="forbidden")
    return reg, spec


def transition_role_check(reg: ModelRegistration, name: str, actor) -> TransitionSpec:
    """The transition's descriptor, if the actor's role allows it whatever the object
    (404 for an unknown transition, 403 for a refused role): the first check of
    ``transition_apply``, also asked once by a bulk caller before its items."""
    spec = reg.specs.get(name)
    if spec is None:
        raise DomainError(f"Transition inconnue : « {name} ».", code="not_found")
    role = role_of(actor)
    if role == SYSTEM:
        if SYSTEM not in spec.roles:
            raise DomainError("Cette transition demande un utilisateur.", code="forbidden")
    elif role != ADMIN and role not in spec.roles:
        raise DomainError(
            f"Votre rôle ne permet pas la transition « {spec.label or name} ».", code="forbidden"
        )
    elif role == ADMIN and spec.roles == frozenset({SYSTEM}):
        raise DomainError(
            f"La transition « {spec.label or name} » est automatique.", code="unavailable"
        )
    return spec


def _available(instance: models.Model, reg: ModelRegistration, spec: TransitionSpec) -> str:
    """The state the caller read, if the transition is possible from it (django-fsm)."""
    source = getattr(instance, reg.state_field)
    if not can_proceed(getattr(instance, spec.name)):
        label = _state_label(instance, reg.state_field)
        raise TransitionUnavailable(
            f"La transition « {spec.label or spec.name} » n'est pas possible depuis l'état "
            f"« {label} »."
        )
    return source


def _read_inputs(
    instance: models.Model, spec: TransitionSpec, actor, comment: str, data, source: str
) -> TransitionContext:
    """The comment and the declared fields, parsed (``engine.inputs``) before any lock."""
    comment = inputs.parse_text(comment, field="comment", label="le commentaire", max_length=5000)
    ctx = TransitionContext(
        instance=instance,
        name=spec.name,
        actor=actor,
        comment=comment,
        data=typed_data(spec, data, comment),
    )
    ctx.source = source
    return ctx


def _lock(reg: ModelRegistration, instance: models.Model, source: str) -> None:
    """The aggregate's root first, then the row itself, compared with ``source``."""
    root = aggregate_lock(reg, instance)
    _lock_and_refresh(instance, reg.state_field, source, root)


def _apply(instance: models.Model, reg: ModelRegistration, ctx: TransitionContext) -> None:
    """The django-fsm transition (django-fsm-log records who and why), then the save
    (``ConcurrentTransitionMixin``)."""
    getattr(instance, ctx.name)(by=ctx.actor, description=ctx.comment or None, ctx=ctx)
    ctx.target = getattr(instance, reg.state_field)
    instance.save()


def _record(
    instance: models.Model, reg: ModelRegistration, spec: TransitionSpec, ctx: TransitionContext
) -> int:
    """The history's date, the deadlines the transition meets (all of the aggregate's for a
    terminal one); returns the aggregate's id."""
    _date_history(instance, ctx)
    if spec.closes:
        deadlines_close(subject=instance, kinds=spec.closes)
    aggregate_id = reg.aggregate(instance)
    if spec.terminal:
        deadlines_cancel_aggregate(aggregate_id=aggregate_id)
    return aggregate_id


def _run_effect_and_hooks(spec: TransitionSpec, ctx: TransitionContext) -> None:
    """The transition's own effect, then the hooks of the layers above."""
    if spec.effect:
        spec.effect(ctx)
    for hook in _hooks:
        hook(ctx)


def _emit(instance: models.Model, aggregate_id: int, ctx: TransitionContext) -> None:
    event_emit(
        topic=f"{instance._meta.model_name}.{ctx.name}",
        subject=instance,
        aggregate_id=aggregate_id,
        actor_id=getattr(ctx.actor, "pk", None),
        payload={
            "source": ctx.source,
            "target": ctx.target,
            "comment": ctx.comment,
            "data": ctx.data,
            "automatic": ctx.automatic,
        },
    )


def typed_data(spec: TransitionSpec, data: dict | None, comment: str = "") -> dict:
    """The transition's body with each declared field parsed (``engine.lifecycle.Field``);
    keys the transition does not declare pass through for its guard."""
    typed = dict(data or {})
    for f in spec.fields:
        raw = typed.get(f.name)
        if f.comment_stands_in and comment and (raw is None or raw == ""):
            raw = comment
        typed[f.name] = f.read(raw)
    return typed


def _event_time(value) -> dt.datetime | None:
    """The moment an event dated in the past happened (noon, local time), or None."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        return None
    if value >= timezone.localdate():
        return None
    return timezone.make_aware(dt.datetime.combine(value, dt.time(12, 0)))


def _date_history(instance, ctx: TransitionContext) -> None:
    """Events are often recorded after the fact: the history keeps the event's date (the
    receipt date, the notification date…), never earlier than the object's previous step;
    the moment it was recorded stays in the outbox event's ``created_at``."""
    at = _event_time(ctx.data.get("date"))
    if at is None:
        return
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce, Greatest
    from django_fsm_log.models import StateLog

    # One statement: the object's newest history row takes the event's time, never
    # earlier than the row before it (the history stays in order).
    history = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
    )
    newest = history.order_by("-id").values("id")[:1]
    previous = history.filter(id__lt=OuterRef("id")).order_by("-id").values("timestamp")[:1]
    at = Value(at, output_field=StateLog._meta.get_field("timestamp"))
    StateLog.objects.filter(pk=Subquery(newest)).update(
        timestamp=Greatest(at, Coalesce(Subquery(previous), at))
    )


def aggregate_lock(reg: ModelRegistration, instance: models.Model):
    """Lock the aggregate's root row (always before any of its children: one lock order,
    no deadlock between transitions of the same aggregate) and return it, read under the
    lock. Callers are inside ``transaction.atomic``."""
    if reg.root is None or reg.root is type(instance):
        return None
    root_id = reg.aggregate(instance)
    return None if root_id is None else root_lock(reg.root, root_id)


def root_lock(model: type[models.Model], pk):
    """``SELECT … FOR UPDATE`` of one row: the lock of an aggregate for the rest of the
    transaction (on SQLite, whose write transactions are serialised, a plain read)."""
    return model._default_manager.select_for_update().filter(pk=pk).first()


def _lock_and_refresh(instance, state_field: str, source: str, root=None) -> None:
    """Lock the row for the transaction; if its state moved since the caller read it, the
    caller acted on stale information: 409. Otherwise take the row's other fields as they are
    now, so that saving the transition never overwrites a concurrent edit (no lost update)."""
    fresh = type(instance)._default_manager.select_for_update().filter(pk=instance.pk).first()
    if fresh is None:
        raise DomainError("Objet introuvable.", code="not_found")
    if getattr(fresh, state_field) != source:
        raise ConcurrentChange()
    for f in instance._meta.concrete_fields:
        if f.attname != state_field and not f.primary_key:
            instance.__dict__[f.attname] = fresh.__dict__[f.attname]
    # Related objects read before the lock (the request of a claim, the dossier of a
    # request) may be stale: the guards read them again, under the lock.
    instance._state.fields_cache.clear()
    getattr(instance, "_prefetched_objects_cache", {}).clear()
    if root is not None:  # the root row just read under its lock (e.g. a request's dossier)
        for f in instance._meta.concrete_fields:
            if f.is_relation and f.related_model is type(root):
                if getattr(instance, f.attname) == root.pk:
                    f.set_cached_value(instance, root)


def _reset_state(instance, state_field: str, source: str) -> None:
    """After a rollback, the in-memory object must not claim the new state."""
    instance.__dict__[state_field] = source


def _state_label(instance, state_field: str) -> str:
    display = getattr(instance, f"get_{state_field}_display", None)
    return str(display()) if display else str(getattr(instance, state_field))
