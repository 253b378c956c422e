"""Descriptors of a state machine: what each state and each transition *is*, declared once
beside the machine, from which forms, serializers, labels, badges and notices are derived.

The engine knows nothing about funding: these are plain data types. A layer above
declares its machines with them (``engine.transitions.register``); the pages, the API
and the notifications read them back through ``registration_for`` instead of keeping
tables of their own, and ``engine.checks`` fails ``manage.py check`` when a machine, a
definition or a template names something undeclared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from . import inputs

#: Kinds of input a transition may read, each parsed by one reader of ``engine.inputs``.
FIELD_KINDS = ("date", "amount", "number", "text", "textarea", "documents", "bool")
#: Badges a state may show (CSS classes of the pages).
BADGES = ("", "ok", "warn", "danger")


@dataclass(frozen=True)
class Field:
    """One input of a transition: its name in the request body, its French label, its
    kind (one of ``FIELD_KINDS``), whether it is required, a hint for the form."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    hint: str = ""
    max_length: int = 5000
    #: For a date: today when left empty (the event happens now).
    default_today: bool = False
    #: For a number: its bounds.
    maximum: Any = None
    #: For a required text: the transition's comment stands in for it when it is left
    #: empty (a withdrawal's reason typed in the comment box).
    comment_stands_in: bool = False
    #: The sentence that asks for a required field left empty (« Indiquez le motif… »).
    missing: str = ""

    def read(self, raw, *, french: bool = False):
        """The typed value of this field in a transition's body (``None`` when absent and
        optional); a ``DomainError`` naming the field otherwise. ``french``: the value was
        typed by a person in a form (« 80 000,00 »)."""
        label = self.label[:1].lower() + self.label[1:]
        empty = raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []
        if empty and self.required and self.missing:
            raise inputs.DomainError(
                self.missing, errors={self.name: ["Ce champ est obligatoire."]}
            )
        if self.kind == "date":
            return inputs.parse_date(
                raw,
                field=self.name,
                label=label,
                required=self.required,
                default=timezone.localdate() if self.default_today else None,
                not_future=True,
            )
        if empty and not self.required:
            return None
        if self.kind == "amount":
            return inputs.parse_money(raw, field=self.name, label=label, french=french)
        if self.kind == "number":
            return inputs.parse_decimal(
                raw, field=self.name, label=label, maximum=self.maximum, french=True
            )
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            if raw in ("true", "on", "1", "oui"):
                return True
            if raw in ("false", "off", "0", "non", ""):
                return False
            raise inputs.DomainError(
                f"{label[:1].upper() + label[1:]} : vrai ou faux.",
                errors={self.name: ["Booléen attendu."]},
            )
        if self.kind == "documents":
            return inputs.parse_text_list(raw, field=self.name, label=label, max_items=50)
        return inputs.parse_text(
            raw, field=self.name, label=label, max_length=self.max_length, required=self.required
        )


@dataclass(frozen=True)
class Notice:
    """What a transition tells whom: an audience (names the notifications layer resolves:
    ``porteurs``, ``referent``, ``funder``), a French text formatted with the event's
    objects, and whether it is also e-mailed."""

    audience: tuple[str, ...]
    text: str
    email: bool = False


@dataclass(frozen=True)
class State:
    """One state: its code name (the contract), its French label, what the porteur reads
    about it (« qui agit, que faire »; empty for machines the porteur never sees as a
    whole), its badge, and whether it is final."""

    code: str
    label: str = ""  # filled from the state field's choices at registration
    porteur: str = ""
    badge: str = ""
    terminal: bool = False


@dataclass(frozen=True)
class DeadlineKind:
    """A kind of deadline (code name, the contract) and what it asks, in French."""

    code: str
    label: str
