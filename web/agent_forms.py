"""Input of the agent and funders pages: which fields each transition asks for, the
forms bound to what the user typed and to the errors of the service, the filters of the
dossier list. No business rule here: guards live in ``cases.lifecycle``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django import forms
from django.core.cache import cache
from django.db.models import QuerySet

from cases.filters import CaseFilter
from cases.models import Opinion, PaymentClaim
from cases.rules import percent
from engine import inputs
from engine.lifecycle import Field
from engine.transitions import spec_of
from schemes.models import LegalCase

from .messages import AttachmentsField
from .porteur_forms import DayField, ExtensionForm, MoneyField

# ---------------------------------------------------------------- transition forms


COMMENT = Field("comment", "Commentaire (facultatif)", "textarea")


@dataclass
class BoundField:
    spec: Field
    id: str
    value: object = ""
    errors: list[str] = field(default_factory=list)
    choices: list[tuple[str, str, bool]] = field(default_factory=list)  # documents checklist

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def describedby(self) -> str:
        ids = []
        if self.spec.hint:
            ids.append(f"{self.id}-hint")
        if self.errors:
            ids.append(f"{self.id}-error")
        return " ".join(ids)


@dataclass
class ActionForm:
    """One action button with the fields it needs, bound to input and errors."""

    key: str  # unique on the page: "<model>-<pk>-<transition>", e.g. "fundingrequest-12-grant"
    subject: str  # "<model>-<pk>"
    name: str
    label: str
    url: str
    fields: list[BoundField]
    danger: bool = False
    error: str = ""

    @property
    def has_fields(self) -> bool:
        return any(f.spec.kind != "textarea" or f.spec.required for f in self.fields)

    @property
    def open(self) -> bool:
        return bool(self.error)


def transition_label(instance, name: str) -> str:
    return spec_of(type(instance), name).label


def action_form(
    instance,
    name: str,
    *,
    url: str,
    missing_documents: list[tuple[str, str]] | None = None,
    submitted: dict | None = None,
) -> ActionForm:
    """The form of transition ``name`` on ``instance``. ``submitted``: what the user typed,
    with the service's ``message`` and ``errors`` when it failed."""
    model = instance._meta.model_name
    key = f"{model}-{instance.pk}-{name}"
    submitted = submitted or {}
    values = submitted.get("values", {})
    errors = submitted.get("errors", {})
    bound = []
    transition = spec_of(type(instance), name)
    for spec in (*transition.fields, COMMENT):
        bf = BoundField(spec=spec, id=f"{key}-{spec.name}", value=values.get(spec.name, ""))
        bf.errors = [str(e) for e in errors.get(spec.name, [])]
        if spec.kind == "documents":
            chosen = values.get("documents") or []
            bf.choices = [
                (label, label, label in chosen) for _code, label in (missing_documents or [])
            ]
            bf.value = values.get("documents_other", "")
        bound.append(bf)
    return ActionForm(
        key=key,
        subject=f"{model}-{instance.pk}",
        name=name,
        label=transition_label(instance, name),
        url=url,
        fields=bound,
        danger=transition.danger,
        error=submitted.get("message", ""),
    )


def typed_input(data: dict, instance, name: str) -> dict:
    """The amounts, numbers and dates of a transition form as people type them
    (« 80 000,00 », « 15/03/2026 »), read once here by the transition's declared fields
    (``engine.lifecycle.Field``, whose amounts go through ``engine.inputs.parse_money``
    like every page form) before the service; a DomainError names the field. The
    service reads the typed values again with its own rules (bounds, not in the future)."""
    typed = dict(data)
    for f in spec_of(type(instance), name).fields:
        raw = typed.get(f.name)
        if not raw:
            continue
        if f.kind in ("amount", "number"):
            typed[f.name] = f.read(raw, french=True)
        elif f.kind == "date":
            label = f.label[:1].lower() + f.label[1:]
            typed[f.name] = inputs.parse_date(raw, field=f.name, label=label, french=True)
    return typed


def transition_input(post) -> tuple[str, dict, dict]:
    """(comment, data for the transition service, values to re-display) from a POST."""
    values = {k: post.get(k, "").strip() for k in post if k not in ("csrfmiddlewaretoken",)}
    comment = values.pop("comment", "")
    data = {k: v for k, v in values.items() if k not in ("next", "documents", "documents_other")}
    documents = [d.strip() for d in post.getlist("documents") if d.strip()]
    other = post.get("documents_other", "")
    documents += [line.strip() for line in other.splitlines() if line.strip()]
    if "documents" in post or "documents_other" in post:
        data["documents"] = documents
    values["documents"] = post.getlist("documents")
    values["documents_other"] = other
    values["comment"] = comment
    return comment, data, values


def form_error(exc, values: dict) -> dict:
    return {"message": exc.message, "errors": exc.errors or {}, "values": values}


# ---------------------------------------------------------------- simple forms


class OpinionForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type d'avis",
        choices=Opinion.Kind.choices,
        help_text="Lecture transitionnelle : l'avis du PETR sur ce que le projet apporte à la "
        "transition écologique du territoire (climat, énergie, eau, alimentation, mobilité).",
    )
    value = forms.ChoiceField(label="Avis", choices=Opinion.Value.choices)
    text = forms.CharField(
        label="Motivation", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Note interne (invisible du porteur)", widget=forms.Textarea(attrs={"rows": 4})
    )


class MessageForm(forms.Form):
    body = forms.CharField(label="Message au porteur", widget=forms.Textarea(attrs={"rows": 4}))
    attachments = AttachmentsField()


class LegalCaseChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.label} — participation minimale {percent(obj.own_share_min)} ({obj.source})"


class ShareExceptionForm(forms.Form):
    """Revised rule 8: the exception names its legal case, whose rate becomes the floor."""

    legal_case = LegalCaseChoice(
        label="Cas légal de la dérogation",
        queryset=LegalCase.objects.filter(active=True),
        to_field_name="code",
        empty_label=None,
        help_text="La participation minimale du maître d'ouvrage est abaissée au taux de ce "
        "cas (et le plafond des aides publiques relevé d'autant) ; les contrôles restent.",
    )
    reason = forms.CharField(
        label="Motif de la dérogation",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par exemple : église classée monument historique (arrêté du …).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the legal cases read once: the select's rendering iterates its choices twice
        # (its options, and Select.use_required_attribute); validation still reads the
        # queryset
        field = self.fields["legal_case"]
        field.choices = list(iter(field.choices))  # iter: no COUNT query for its length


class RecoveryForm(forms.Form):
    """A recovery order (ordre de reversement, revised rule 6) on an overpaid request."""

    amount = MoneyField(
        label="Montant à reverser (€)",
        error_messages={"required": "Indiquez le montant à reverser."},
        help_text="Au plus le trop-perçu : ce qui a été versé au-delà de l'aide finalement due.",
    )
    date = DayField(
        label="Date de l'ordre de reversement",
        required=False,
        help_text="Par défaut aujourd'hui ; jamais dans le futur.",
    )
    reason = forms.CharField(
        label="Motif du reversement",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Indiquez le motif du reversement."},
    )

    def to_data(self) -> dict:
        d = self.cleaned_data
        return {
            "amount": str(d["amount"]),
            "date": d["date"].isoformat() if d.get("date") else None,
            "reason": d["reason"],
        }


# ---------------------------------------------------------------- dossier list filters


THEMES_CACHE_SECONDS = 300


def _theme_choices(qs: QuerySet, current: str = "") -> list[tuple[str, str]]:
    """The themes of the dossiers the user sees, for the filter's list. A ``DISTINCT`` over
    the whole territory costs ~30 ms per page on 100,000 dossiers (bench/load.py): the list
    is cached a few minutes per scope (the SQL of the user's visible dossiers). The filter
    itself accepts any theme, so a theme newer than the cache still filters."""
    key = "web:themes:" + hashlib.sha256(str(qs.query).encode()).hexdigest()
    themes = cache.get(key)
    if themes is None:
        themes = list(
            qs.exclude(theme="").order_by("theme").values_list("theme", flat=True).distinct()
        )
        cache.set(key, themes, THEMES_CACHE_SECONDS)
    if current and current not in themes:
        themes = sorted([*themes, current])
    return [("", "Tous les thèmes")] + [(t, t) for t in themes]


def case_filter(data, *, cases: QuerySet) -> CaseFilter:
    """The dossier list's filters (``cases.filters.CaseFilter``, the API's too), with the
    themes of the dossiers the user sees in the theme list."""
    filterset = CaseFilter(data or None, queryset=cases)
    current = (data.get("theme") or "")[:120] if data else ""
    filterset.form.fields["theme"].widget.choices = _theme_choices(cases, current)
    return filterset


__all__ = ["ExtensionForm", "PaymentClaim"]
