"""Input of the agent and funders pages: which fields each transition asks for, the
forms bound to what the user typed and to the errors of the service, the filters of the
dossier list. No business rule here: guards live in ``cases.transitions``."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django import forms
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.models import EPCI, CaseState, FundingRequest, Opinion, PaymentClaim, ResourceLine
from engine import inputs
from engine.models import Deadline
from engine.transitions import registration_for
from workflows.models import Scheme

# ---------------------------------------------------------------- transition forms


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str = "text"  # text | textarea | date | amount | number | documents
    required: bool = False
    hint: str = ""


DATE_HINT = "Format AAAA-MM-JJ ; la date de l'événement, jamais dans le futur."


def _date(label: str, required: bool = False) -> FieldSpec:
    return FieldSpec("date", label, "date", required, DATE_HINT)


COMMENT = FieldSpec("comment", "Commentaire (facultatif)", "textarea")

# (model name, transition) → the fields the transition needs besides the comment.
FIELDS: dict[tuple[str, str], tuple[FieldSpec, ...]] = {
    ("case", "request_documents"): (
        FieldSpec(
            "documents",
            "Pièces manquantes",
            "documents",
            True,
            "Cochez les pièces obligatoires manquantes ou ajoutez-en, une par ligne.",
        ),
        _date("Date de la demande"),
    ),
    ("case", "declare_complete"): (_date("Date de complétude"),),
    ("case", "start_works"): (_date("Date de début des travaux", True),),
    ("case", "complete_works"): (_date("Date d'achèvement des travaux", True),),
    ("case", "withdraw"): (FieldSpec("reason", "Motif de l'abandon", "textarea", True),),
    ("fundingrequest", "submit_to_committee"): (
        FieldSpec(
            "pre_score",
            "Pré-notation (points sur la grille de sélection)",
            "number",
            True,
        ),
    ),
    ("fundingrequest", "grant"): (
        FieldSpec(
            "amount_granted", "Montant accordé (€)", "amount", True, "Par exemple 12 500,00."
        ),
        _date("Date de notification de la décision"),
    ),
    ("fundingrequest", "refuse"): (
        FieldSpec("motivation", "Motivation du refus", "textarea", True),
        _date("Date de la décision"),
    ),
    ("fundingrequest", "commit"): (
        _date("Date de signature de la convention ou de l'arrêté", True),
    ),
    ("fundingrequest", "withdraw"): (FieldSpec("reason", "Motif du retrait", "textarea", True),),
    ("paymentclaim", "verify"): (_date("Date du contrôle du service fait"),),
    ("paymentclaim", "pay"): (
        FieldSpec("amount", "Montant payé (€)", "amount", True, "Par exemple 12 500,00."),
        _date("Date du paiement"),
    ),
    ("paymentclaim", "reject"): (FieldSpec("motivation", "Motivation du rejet", "textarea", True),),
}

DANGER = {"withdraw", "refuse", "reject"}


@dataclass
class BoundField:
    spec: FieldSpec
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
    spec = registration_for(type(instance)).specs.get(name)
    return (spec.label if spec else "") or name


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
    for spec in (*FIELDS.get((model, name), ()), COMMENT):
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
        danger=name in DANGER,
        error=submitted.get("message", ""),
    )


AMOUNT_FIELDS = {
    spec.name: spec.label for specs in FIELDS.values() for spec in specs if spec.kind == "amount"
}
NUMBER_FIELDS = {
    spec.name: spec.label for specs in FIELDS.values() for spec in specs if spec.kind == "number"
}


def typed_input(data: dict) -> dict:
    """The amounts and numbers of a transition form as people type them (« 80 000,00 »),
    read once here (``engine.inputs``) before the service; a DomainError names the field."""
    typed = dict(data)
    for name, label in AMOUNT_FIELDS.items():
        if typed.get(name):
            typed[name] = inputs.parse_money(
                typed[name], field=name, label=label.split(" (")[0].lower(), french=True
            )
    for name in NUMBER_FIELDS:
        if typed.get(name):
            typed[name] = inputs.read_decimal(typed[name], french=True) or typed[name]
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
    kind = forms.ChoiceField(label="Type d'avis", choices=Opinion.Kind.choices)
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


class ShareExceptionForm(forms.Form):
    reason = forms.CharField(
        label="Motif légal de la dérogation",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par exemple : CGCT L1111-10 III, projet de patrimoine protégé.",
    )


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


class CaseFilterForm(forms.Form):
    q = forms.CharField(label="Titre ou référence", required=False, max_length=100)
    epci = forms.ModelChoiceField(
        label="EPCI", queryset=EPCI.objects.all(), required=False, empty_label="Tous les EPCI"
    )
    scheme = forms.ModelChoiceField(
        label="Dispositif",
        queryset=Scheme.objects.all(),
        required=False,
        empty_label="Tous les dispositifs",
        to_field_name="code",
    )
    theme = forms.CharField(label="Thème", required=False, max_length=120, widget=forms.Select)
    state = forms.ChoiceField(
        label="État", required=False, choices=[("", "Tous les états"), *CaseState.choices]
    )
    overdue = forms.BooleanField(
        label="Seulement les dossiers avec une échéance dépassée", required=False
    )

    def __init__(self, *args, cases: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        current = (self.data.get("theme") or "")[:120] if self.is_bound else ""
        self.fields["theme"].widget.choices = _theme_choices(cases, current)

    def apply(self, qs: QuerySet) -> QuerySet:
        if not self.is_valid():
            return qs
        d = self.cleaned_data
        if d.get("q"):
            qs = qs.filter(Q(title__icontains=d["q"]) | Q(reference__icontains=d["q"]))
        if d.get("epci"):
            qs = qs.filter(epci=d["epci"])
        if d.get("scheme"):
            scheme = d["scheme"]
            qs = qs.filter(
                Q(Exists(FundingRequest.objects.filter(case=OuterRef("pk"), scheme=scheme)))
                | Q(Exists(ResourceLine.objects.filter(case=OuterRef("pk"), scheme=scheme)))
            )
        if d.get("theme"):
            qs = qs.filter(theme=d["theme"])
        if d.get("state"):
            qs = qs.filter(state=d["state"])
        if d.get("overdue"):
            qs = qs.filter(Exists(overdue_deadlines()))
        return qs


def overdue_deadlines(today: dt.date | None = None) -> QuerySet[Deadline]:
    """Open deadlines past due, of the dossier in ``OuterRef('pk')``."""
    return Deadline.objects.filter(
        aggregate_id=OuterRef("pk"),
        state=Deadline.State.OPEN,
        due_on__lt=today or timezone.localdate(),
    )


__all__ = ["PaymentClaim"]
