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

from django.db import models
from django.utils import timezone
from django_fsm import can_proceed

from . import inputs
from .errors import DomainError, TransitionUnavailable
from .lifecycle import Field, Notice, State

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
    # What ``effect`` does, for the items of a wave at once (``engine.batch``, ADR 010):
    # called instead of ``effect`` when a wave holds several items.
    batch_effect: Callable[[list[TransitionContext]], None] | None = None

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
#: hook → its batch variant (called once with the contexts of a wave), if it has one
_batch_hooks: dict[Effect, Callable[[list[TransitionContext]], None]] = {}
#: model → the foreign keys read with its rows under the engine's lock
_lock_related: dict[type[models.Model], tuple[str, ...]] = {}


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


def register_hook(
    hook: Effect, *, batch: Callable[[list[TransitionContext]], None] | None = None
) -> None:
    """A hook runs after every transition, in its transaction (e.g. open deadlines).
    ``batch``, if given, does what ``hook`` does for each context of a list, at once: the
    engine calls it for the items of a batch (``engine.batch``) instead of ``hook`` each."""
    if hook not in _hooks:
        _hooks.append(hook)
    if batch is not None:
        _batch_hooks[hook] = batch


def register_lock_related(model: type[models.Model], *names: str) -> None:
    """A layer whose hooks read these foreign keys of ``model``'s rows (e.g. the dossier's
    referent agent, owner of the tasks opened): the engine reads them in the statement
    that locks the rows (a join; only the model's own rows are locked)."""
    known = _lock_related.get(model, ())
    _lock_related[model] = known + tuple(n for n in names if n not in known)


def lock_related(model: type[models.Model]) -> tuple[str, ...]:
    return _lock_related.get(model, ())


def hooks_for_batch() -> list[tuple[Effect, Callable | None]]:
    """The hooks in their order, each with its batch variant or None."""
    return [(hook, _batch_hooks.get(hook)) for hook in _hooks]


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
    in-memory object keeps its source state. The batch of one item of ``engine.batch``
    (one place per rule: many items go the same way)."""
    from .batch import BatchItem, transitions_apply_batch

    item = BatchItem(instance=instance, comment=comment, data=data)
    transitions_apply_batch(
        model=type(instance), name=name, actor=actor, items=[item], isolate=False
    )
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


def _reset_state(instance, state_field: str, source: str) -> None:
    """After a rollback, the in-memory object must not claim the new state."""
    instance.__dict__[state_field] = source


def _state_label(instance, state_field: str) -> str:
    display = getattr(instance, f"get_{state_field}_display", None)
    return str(display()) if display else str(getattr(instance, state_field))
