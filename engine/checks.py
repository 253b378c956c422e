"""``manage.py check`` guards the descriptors: a machine whose states or transitions are not
all declared, a definition, table or template that names an undeclared state, transition
or deadline kind fails the check (instead of falling back silently at run time).

The layers above tell the engine what they name through ``register_references``: a
function returning ``Reference`` rows (the deadline definitions, the agent steps, the
pages' tables). Templates are read here: any ``….state == '<code>'`` comparison must name
a declared state of some machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import checks

from .lifecycle import BADGES, FIELD_KINDS

STATE = "state"
TRANSITION = "transition"
DEADLINE_KIND = "deadline_kind"


@dataclass(frozen=True)
class Reference:
    """A name used somewhere (``where``): a state or a transition of ``model`` (a model
    class, or its ``model_name``; ``None``: any machine), or a deadline kind."""

    where: str
    kind: str
    name: str
    model: object = None


_providers: list[Callable[[], Iterable[Reference]]] = []


def register_references(provider: Callable[[], Iterable[Reference]]) -> None:
    if provider not in _providers:
        _providers.append(provider)


def _model_name(model) -> str:
    return model if isinstance(model, str) else model._meta.model_name


def machine_errors() -> list[checks.CheckMessage]:
    """Each registered machine declares every state of its field and every django-fsm
    transition of its model, with the wording the pages and notices need."""
    from .transitions import registrations

    errors = []
    for reg in registrations():
        errors += _state_errors(reg)
        errors += _transition_errors(reg)
        errors += _spec_errors(reg)
    return errors


def _state_errors(reg) -> list[checks.CheckMessage]:
    """Every state of the field has a descriptor, every descriptor is a state of the field,
    with a known badge (E001–E003)."""
    label = reg.model._meta.label
    field = reg.model._meta.get_field(reg.state_field)
    codes = {str(c) for c, _ in field.choices or ()}
    errors = [
        checks.Error(f"{label} : l'état « {missing} » n'a pas de descripteur.", id="engine.E001")
        for missing in sorted(codes - set(reg.states))
    ]
    errors += [
        checks.Error(
            f"{label} : le descripteur d'état « {extra} » n'est pas un état du champ.",
            id="engine.E002",
        )
        for extra in sorted(set(reg.states) - codes)
    ]
    errors += [
        checks.Error(f"{label}.{st.code} : badge « {st.badge} » inconnu.", id="engine.E003")
        for st in reg.states.values()
        if st.badge not in BADGES
    ]
    return errors


def _transition_errors(reg) -> list[checks.CheckMessage]:
    """Every django-fsm transition of the model has a descriptor, and every descriptor is
    one of them (E004, E005)."""
    label = reg.model._meta.label
    field = reg.model._meta.get_field(reg.state_field)
    fsm = {t.name for t in field.get_all_transitions(reg.model)}
    errors = [
        checks.Error(
            f"{label} : la transition « {missing} » n'a pas de descripteur.", id="engine.E004"
        )
        for missing in sorted(fsm - set(reg.specs))
    ]
    errors += [
        checks.Error(
            f"{label} : le descripteur « {extra} » ne correspond à aucune transition du modèle.",
            id="engine.E005",
        )
        for extra in sorted(set(reg.specs) - fsm)
    ]
    return errors


def _spec_errors(reg) -> list[checks.CheckMessage]:
    """Each descriptor has its labels (E006), fields of known kinds (E007) and closes
    declared deadline kinds."""
    errors = []
    for spec in reg.specs.values():
        where = f"{reg.model._meta.label}.{spec.name}"
        if not spec.label or not spec.event:
            errors.append(
                checks.Error(
                    f"{where} : libellé d'action ou d'historique manquant.", id="engine.E006"
                )
            )
        errors += [
            checks.Error(f"{where}.{f.name} : type « {f.kind} » inconnu.", id="engine.E007")
            for f in spec.fields
            if f.kind not in FIELD_KINDS
        ]
        for kind in spec.closes:
            errors.extend(_reference_errors([Reference(where, DEADLINE_KIND, kind)]))
    return errors


def _reference_errors(references: Iterable[Reference]) -> list[checks.CheckMessage]:
    from .deadlines import deadline_kinds
    from .transitions import registrations

    regs = {reg.model._meta.model_name: reg for reg in registrations()}
    all_states = {code for reg in regs.values() for code in reg.states}
    all_transitions = {name for reg in regs.values() for name in reg.specs}
    kinds = deadline_kinds()
    errors = []
    for ref in references:
        reg = regs.get(_model_name(ref.model)) if ref.model is not None else None
        if ref.model is not None and reg is None:
            errors.append(
                checks.Error(
                    f"{ref.where} : « {_model_name(ref.model)} » n'a pas de cycle de vie.",
                    id="engine.E010",
                )
            )
            continue
        if ref.kind == STATE:
            known = reg.states if reg else all_states
            if ref.name not in known:
                errors.append(
                    checks.Error(
                        f"{ref.where} : état non déclaré « {ref.name} ».", id="engine.E011"
                    )
                )
        elif ref.kind == TRANSITION:
            known = reg.specs if reg else all_transitions
            if ref.name not in known:
                errors.append(
                    checks.Error(
                        f"{ref.where} : transition non déclarée « {ref.name} ».", id="engine.E012"
                    )
                )
        elif ref.kind == DEADLINE_KIND:
            if ref.name not in kinds:
                errors.append(
                    checks.Error(
                        f"{ref.where} : type d'échéance non déclaré « {ref.name} ».",
                        id="engine.E013",
                    )
                )
        else:
            errors.append(
                checks.Error(
                    f"{ref.where} : référence de type inconnu « {ref.kind} ».", id="engine.E014"
                )
            )
    return errors


TEMPLATE_STATE = re.compile(r"""\.state\s*(?:==|!=)\s*["'](\w+)["']""")


def template_references() -> list[Reference]:
    """``….state == 'x'`` in the project's templates: a state of some machine."""
    refs = []
    for directory in _template_dirs():
        for path in sorted(directory.rglob("*.html")):
            text = path.read_text(encoding="utf-8", errors="replace")
            for match in TEMPLATE_STATE.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                refs.append(Reference(f"{path.name}:{line}", STATE, match.group(1)))
    return refs


def _template_dirs() -> list[Path]:
    """The project's own template directories (``TEMPLATES[…]["DIRS"]``)."""
    dirs = []
    for engine in settings.TEMPLATES:
        dirs.extend(Path(d) for d in engine.get("DIRS", ()))
    return [d for d in dirs if d.is_dir()]


@checks.register("guichet")
def descriptors_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    references = template_references()
    for provider in _providers:
        references.extend(provider())
    return machine_errors() + _reference_errors(references)
