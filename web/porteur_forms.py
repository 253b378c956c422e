"""Forms of the porteur pages: input parsing only (types, sizes, required fields).

The business rules (financing plan, documents, transitions) live in ``cases.services``,
``cases.rules`` and the transition guards; their French messages are shown as they are.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from cases.models import PaymentClaim, ResourceLine, Theme
from engine import inputs
from engine.errors import DomainError
from schemes.models import Commune

from .messages import AttachmentsField


class MoneyField(forms.DecimalField):
    """Euros as people type them: « 12 500,50 », « 12500.50 », « 12 500 € »."""

    default_error_messages = {"invalid": "Montant invalide : écrivez par exemple 12 500,00."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)
        self.widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        self.error_messages["max_decimal_places"] = "Deux décimales au plus."
        self.error_messages["min_value"] = "Le montant ne peut pas être négatif."
        self.error_messages["max_digits"] = "Montant trop élevé."

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        # The one reader of amounts typed in a page (engine.inputs.parse_money, as the
        # agent and funders' forms): « 12 500,00 », « 12500.00 »; never a mix of point
        # and comma, an exponent, Unicode digits or more than two decimals.
        try:
            number = inputs.parse_money(
                value, field="amount", label="montant", french=True, allow_zero=True
            )
        except DomainError as exc:
            raise ValidationError(exc.message, code="invalid") from None
        return super().to_python(number)

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return f"{value:.2f}".replace(".", ",")
        return value


class GuichetForm(forms.Form):
    """No browser-side ``required`` (the server's French messages and the error summary
    speak instead, and a draft can be saved half-filled)."""

    use_required_attribute = False


# ---------------------------------------------------------------- step 1: project


class ProjectForm(GuichetForm):
    title = forms.CharField(
        label="Titre du projet",
        max_length=300,
        help_text="Un titre court et parlant, par exemple « Rénovation de l'école ».",
        error_messages={"required": "Indiquez le titre du projet."},
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Objectifs, publics, calendrier prévisionnel, maîtrise d'œuvre.",
    )
    theme = forms.ChoiceField(
        label="Thème",
        required=False,
        help_text="Le thème principal du projet, dans la liste du territoire.",
        error_messages={"invalid_choice": "Choisissez un thème de la liste."},
    )
    communes = forms.MultipleChoiceField(
        label="Communes concernées",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Les communes du territoire où se réalise le projet.",
        error_messages={"invalid_choice": "Commune hors du territoire : « %(value)s »."},
    )

    def __init__(self, *args, communes=None, current_theme=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.commune_rows = list(communes if communes is not None else _communes())
        self.fields["communes"].choices = [(c.insee, c.name) for c in self.commune_rows]
        # The controlled list (cases.Theme): the active themes, and the dossier's own
        # even if it was since withdrawn from the list.
        themes = Theme.objects.filter(active=True)
        if current_theme is not None:
            themes = Theme.objects.filter(active=True) | Theme.objects.filter(pk=current_theme.pk)
        self.fields["theme"].choices = [("", "— Choisir un thème —")] + [
            (t.slug, t.label) for t in themes.order_by("order", "label")
        ]

    def commune_groups(self):
        """[(EPCI name, [(insee, name, checked)])] for a grouped, filterable list."""
        selected = set(self["communes"].value() or [])
        groups: dict[str, list] = {}
        for c in self.commune_rows:
            groups.setdefault(c.epci.name, []).append((c.insee, c.name, c.insee in selected))
        return sorted(groups.items())

    def to_data(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "description": d["description"],
            "theme": d["theme"],
            "communes": list(d["communes"]),
        }


def scheme_label(scheme) -> str:
    """A scheme as people read it: its name, with its acronym when it is one people know
    (« Dotation d'équipement des territoires ruraux (DETR) »), never an internal code such
    as « REGION_OCC » (issue 12, point 6)."""
    code, name = scheme.code, scheme.name
    if "_" in code or not code.isalpha() or code.lower() in name.lower():
        return name
    return f"{name} ({code})"


def _communes():
    return Commune.objects.select_related("epci").order_by("name")


# ---------------------------------------------------------------- step 2: financing plan


class TaxBasisForm(GuichetForm):
    """Revised rule 10: the whole plan is HT or TTC; every expense line takes that basis."""

    tax_basis = forms.ChoiceField(
        label="Le plan est présenté",
        choices=[
            ("HT", "HT — vous récupérez la TVA (par exemple par le FCTVA)"),
            ("TTC", "TTC — vous ne récupérez pas la TVA"),
        ],
        initial="HT",
        widget=forms.RadioSelect,
        help_text="Toutes les dépenses sont saisies dans cette base ; chaque aide est calculée "
        "sur la dépense éligible dans cette base.",
    )


class ExpenseForm(GuichetForm):
    label = forms.CharField(label="Libellé", required=False, max_length=200)
    amount = MoneyField(label="Montant (€)", required=False)
    eligible = forms.BooleanField(label="Éligible", required=False, initial=True)

    def clean(self):
        data = super().clean()
        label, amount = data.get("label"), data.get("amount")
        self.blank = not label and amount is None and not self.has_error("amount")
        if self.blank:
            return data
        if not label:
            self.add_error("label", "Indiquez le libellé de la dépense.")
        if amount is None and not self.has_error("amount"):
            self.add_error("amount", "Indiquez le montant de la dépense.")
        return data

    def to_row(self) -> dict:
        d = self.cleaned_data
        return {
            "label": d["label"],
            "amount": str(d["amount"]),
            "eligible": bool(d["eligible"]),
        }


def source_choices(schemes) -> list[tuple[str, str]]:
    choices = [("", "— choisir —")]
    choices += [(f"scheme:{s.code}", scheme_label(s)) for s in schemes]
    choices += [
        (k, str(label)) for k, label in ResourceLine.Kind.choices if k != ResourceLine.Kind.SCHEME
    ]
    return choices


class ResourceForm(GuichetForm):
    source = forms.ChoiceField(label="Financeur ou origine", required=False)
    label = forms.CharField(label="Précision", required=False, max_length=200)
    amount = MoneyField(label="Montant (€)", required=False)

    def __init__(self, *args, schemes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = source_choices(schemes)

    def clean(self):
        data = super().clean()
        source, amount = data.get("source"), data.get("amount")
        self.blank = (
            not source and amount is None and not data.get("label") and not self.has_error("amount")
        )
        if self.blank:
            return data
        if not source:
            self.add_error("source", "Choisissez le financeur ou l'origine de la ressource.")
        if amount is None and not self.has_error("amount"):
            self.add_error("amount", "Indiquez le montant de la ressource.")
        return data

    def to_row(self) -> dict:
        d = self.cleaned_data
        source = d["source"]
        row = {"kind": source, "label": d["label"], "amount": str(d["amount"])}
        if source.startswith("scheme:"):
            row = {**row, "kind": "scheme", "scheme": source.split(":", 1)[1]}
        return row


def expense_formset(*, data=None, initial=(), blank_rows=2):
    cls = forms.formset_factory(ExpenseForm, extra=blank_rows, can_delete=True, max_num=100)
    return cls(data=data, initial=list(initial), prefix="dep")


def resource_formset(*, data=None, initial=(), blank_rows=2, schemes=()):
    cls = forms.formset_factory(ResourceForm, extra=blank_rows, can_delete=True, max_num=100)
    return cls(data=data, initial=list(initial), prefix="res", form_kwargs={"schemes": schemes})


def kept_rows(formset) -> list[dict]:
    """The filled rows of a valid formset, without the deleted and blank ones."""
    rows = []
    for form in formset.forms:
        if not form.is_valid() or getattr(form, "blank", True):
            continue
        if formset.can_delete and form.cleaned_data.get("DELETE"):
            continue
        rows.append(form.to_row())
    return rows


def plan_initial(case) -> tuple[list[dict], list[dict]]:
    expenses = [
        {"label": e.label, "amount": e.amount, "eligible": e.eligible} for e in case.expenses.all()
    ]
    resources = [
        {
            "source": f"scheme:{r.scheme.code}" if r.scheme_id else r.kind,
            "label": r.label,
            "amount": r.amount,
        }
        for r in case.resources.all()
    ]
    return expenses, resources


def plan_rows(case) -> dict:
    """The dossier's plan as the services take it (to change one part and keep the rest)."""
    return {
        "tax_basis": case.tax_basis,
        "expenses": [
            {"label": e.label, "amount": str(e.amount), "eligible": e.eligible}
            for e in case.expenses.all()
        ],
        "resources": [
            {
                "kind": r.kind,
                "scheme": r.scheme.code if r.scheme_id else None,
                "label": r.label,
                "amount": str(r.amount),
            }
            for r in case.resources.all()
        ],
    }


# ---------------------------------------------------------------- step 3: schemes


class SchemeChoiceForm(GuichetForm):
    """One checkbox and one amount per scheme (fields ``use_CODE`` and ``amount_CODE``)."""

    def __init__(self, *args, schemes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.schemes = list(schemes)
        for s in self.schemes:
            self.fields[f"use_{s.code}"] = forms.BooleanField(
                label=f"Solliciter : {scheme_label(s)}", required=False
            )
            self.fields[f"amount_{s.code}"] = MoneyField(
                label=f"Montant demandé au titre de : {scheme_label(s)} (€)", required=False
            )

    def clean(self):
        data = super().clean()
        for s in self.schemes:
            if data.get(f"use_{s.code}") and data.get(f"amount_{s.code}") is None:
                if not self.has_error(f"amount_{s.code}"):
                    self.add_error(
                        f"amount_{s.code}",
                        f"Indiquez le montant demandé au titre de : {scheme_label(s)}.",
                    )
        return data

    def chosen(self) -> dict[str, str]:
        return {
            s.code: str(self.cleaned_data[f"amount_{s.code}"])
            for s in self.schemes
            if self.cleaned_data.get(f"use_{s.code}")
        }


# ---------------------------------------------------------------- documents, messages


class DocumentForm(GuichetForm):
    kind = forms.CharField(widget=forms.HiddenInput, max_length=40)
    file = forms.FileField(
        label="Fichier",
        help_text="PDF, image (PNG, JPEG) ou document bureautique ; 10 Mo au plus.",
        error_messages={"required": "Choisissez un fichier.", "empty": "Le fichier est vide."},
    )
    label = forms.CharField(label="Précision (facultatif)", required=False, max_length=200)

    def __init__(self, *args, kind_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kind_choices is not None:
            self.fields["kind"] = forms.ChoiceField(label="Pièce", choices=kind_choices)


class PieceForm(GuichetForm):
    """One card of the intake's pieces step; its kind is the card's (the prefix)."""

    file = forms.FileField(
        label="Fichier",
        required=False,
        help_text="PDF, image (PNG, JPEG) ou document bureautique ; 10 Mo au plus.",
        error_messages={"empty": "Le fichier est vide."},
    )
    label = forms.CharField(label="Précision (facultatif)", required=False, max_length=200)

    def __init__(self, *args, required=True, **kwargs):
        kwargs.setdefault("auto_id", "id_%s")
        super().__init__(*args, **kwargs)
        self.piece_required = required

    def has_file(self) -> bool:
        return bool(self.files and self.files.get(self.add_prefix("file")))

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            raise ValidationError("Choisissez un fichier avant de cliquer sur « Joindre ».")
        return upload


class MessageForm(GuichetForm):
    body = forms.CharField(
        label="Votre message à l'agent référent",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Écrivez votre message."},
    )
    attachments = AttachmentsField()


# ---------------------------------------------------------------- transitions, claims


class TransitionForm(GuichetForm):
    transition = forms.CharField(widget=forms.HiddenInput, max_length=40)
    target = forms.CharField(widget=forms.HiddenInput, max_length=40, required=False)
    date = forms.DateField(
        label="Date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Date invalide (JJ/MM/AAAA)."},
        help_text="Jamais dans le futur.",
    )
    reason = forms.CharField(
        label="Motif",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def to_data(self) -> dict:
        data = {}
        if self.cleaned_data.get("date"):
            data["date"] = self.cleaned_data["date"].isoformat()
        if self.cleaned_data.get("reason"):
            data["reason"] = self.cleaned_data["reason"]
        return data


class ClaimForm(GuichetForm):
    funding_request = forms.TypedChoiceField(label="Aide concernée", coerce=int)
    kind = forms.ChoiceField(label="Type de demande", choices=PaymentClaim.Kind.choices)
    amount = MoneyField(
        label="Montant demandé (€)", error_messages={"required": "Indiquez le montant."}
    )
    filed_on = forms.DateField(
        label="Date de la demande",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Par défaut aujourd'hui ; jamais dans le futur.",
        error_messages={"invalid": "Date invalide (JJ/MM/AAAA)."},
    )
    actual_cost = MoneyField(
        label="Coût réel des dépenses éligibles (€)",
        required=False,
        help_text="Pour le solde seulement : le total des dépenses éligibles réellement "
        "payées. L'aide finalement due est l'aide accordée × coût réel / coût prévu, sans "
        "dépasser l'aide accordée.",
    )

    def __init__(self, *args, requests=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funding_request"].choices = [
            (fr.pk, f"{fr.scheme.code} — {fr.scheme.name}") for fr in requests
        ]

    def to_data(self) -> dict:
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "amount": str(d["amount"]),
            "filed_on": d["filed_on"].isoformat() if d.get("filed_on") else None,
            "actual_cost": str(d["actual_cost"]) if d.get("actual_cost") is not None else None,
        }


class DayField(forms.CharField):
    """A date as the API reads it (``engine.inputs.parse_date``): « 2027-06-01 » or
    « 01/06/2027 », a real calendar day between 2000 and 2099, never Unicode digits."""

    def __init__(self, *, label: str, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(label=label, **kwargs)
        self.day_label = label.lower()

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        try:
            return inputs.parse_date(text, label=self.day_label, french=True)
        except DomainError as exc:
            raise ValidationError(exc.message, code="invalid") from None


class ExtensionForm(GuichetForm):
    """A request to move a works deadline (prorogation, revised rule 5). ``targets``: the
    deadlines that may still be extended (``web.works.extension_targets``)."""

    target = forms.ChoiceField(
        label="Échéance à proroger",
        error_messages={
            "required": "Choisissez l'échéance à proroger.",
            "invalid_choice": "Cette échéance ne peut pas (ou plus) être prorogée.",
        },
    )
    until = DayField(
        label="Nouvelle échéance demandée",
        error_messages={"required": "Indiquez la nouvelle date demandée."},
    )
    reason = forms.CharField(
        label="Motif de la demande",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par exemple : appel d'offres infructueux, intempéries, retard d'un lot.",
        error_messages={"required": "Indiquez le motif de la demande de prorogation."},
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "— Choisir —"), *targets]

    def target_parts(self) -> tuple[int, str]:
        """(request id, deadline kind) of the chosen target (one of the offered choices)."""
        pk, _, kind = self.cleaned_data["target"].partition(":")
        return int(pk), kind

    def to_data(self) -> dict:
        d = self.cleaned_data
        return {"deadline": self.target_parts()[1], "until": d["until"], "reason": d["reason"]}
