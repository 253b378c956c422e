"""The body of ``POST …/transitions/{name}/``, derived from the transition descriptors."""

from __future__ import annotations

from rest_framework import serializers as s

from engine.transitions import registrations


def _transition_field(field, readers: list[str]) -> s.Field:
    """A transition's input as the schema shows it (the engine reads and checks it)."""
    text = f"{field.label}. Lu par : {', '.join(sorted(readers))}."
    if field.hint:
        text += f" {field.hint}"
    kw = {"required": False, "help_text": text}
    if field.kind == "date":
        return s.DateField(**kw)
    if field.kind == "amount":
        return s.DecimalField(max_digits=14, decimal_places=2, **kw)
    if field.kind == "number":
        return s.DecimalField(max_digits=8, decimal_places=2, **kw)
    if field.kind == "documents":
        return s.ListField(child=s.CharField(max_length=200), max_length=50, **kw)
    if field.kind == "bool":
        return s.BooleanField(**kw)
    return s.CharField(max_length=field.max_length, allow_blank=True, **kw)


def _transition_input_serializer() -> type[s.Serializer]:
    """The body of ``POST …/transitions/{name}/``: every field a transition declares
    (``engine.lifecycle.Field``), named with the transitions that read it. Derived from the
    descriptors; the engine parses and checks each transition's own fields."""
    first, readers = {}, {}
    for reg in registrations():
        for spec in reg.specs.values():
            for field in spec.fields:
                first.setdefault(field.name, field)
                readers.setdefault(field.name, []).append(
                    f"{reg.model._meta.model_name}.{spec.name}"
                )
    attrs = {
        "__doc__": "Les champs qu'une transition lit ; chacune ne lit que les siens.",
        "comment": s.CharField(max_length=5000, required=False, allow_blank=True),
        **{name: _transition_field(f, readers[name]) for name, f in sorted(first.items())},
    }
    return type("TransitionInputSerializer", (s.Serializer,), attrs)


TransitionInputSerializer = _transition_input_serializer()
