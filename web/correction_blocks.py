"""The correction requests on the dossier pages (issue 12): what the agent's page and the
porteur's page show of them, their forms and their history lines. The views that post
them are in ``web.corrections``."""

from __future__ import annotations

from django import forms
from django.urls import reverse

from cases import selectors
from cases.models import CorrectionState, CorrectionTarget
from cases.permissions import allowed
from cases.services.corrections import FIELDS, INLINE_FIELDS


def document_kinds(case) -> list[tuple[str, str]]:
    # web.porteur.common, read late: the porteur package imports this module
    from .porteur.common import document_kinds as kinds

    return kinds(case)


def step_url(case, step) -> str:
    return reverse("web:intake-step", args=[case.pk, step])


def target_labels(case, kinds=None) -> dict[tuple[str, str], str]:
    """(kind, target) → its French label, for the fields and the dossier's piece kinds
    (``kinds``: already read, else read from the dossier)."""
    labels = {(CorrectionTarget.FIELD.value, k): v for k, v in FIELDS.items()}
    for code, label in document_kinds(case) if kinds is None else kinds:
        labels[(CorrectionTarget.DOCUMENT.value, code)] = f"Pièce « {label} »"
    return labels


def _label(labels, c) -> str:
    return labels.get((c.target_kind, c.target), c.target)


class CorrectionForm(forms.Form):
    target = forms.ChoiceField(
        label="Champ ou pièce à corriger",
        error_messages={"required": "Choisissez le champ ou la pièce à corriger."},
    )
    body = forms.CharField(
        label="Ce qu'il faut corriger (message au porteur)",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Expliquez au porteur ce qu'il faut corriger."},
    )

    def __init__(self, *args, case=None, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        fields = [(f"field:{k}", v) for k, v in FIELDS.items()]
        kinds = document_kinds(case) if kinds is None else kinds
        pieces = [(f"document:{code}", label) for code, label in kinds]
        self.fields["target"].choices = [
            ("", "— choisir —"),
            ("Champs du dossier", fields),
            ("Pièces", pieces),
        ]


class FieldCorrectionForm(forms.Form):
    """The porteur's corrected value of one text field of the dossier."""

    value = forms.CharField(
        label="Valeur corrigée",
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def agent_block(user, case, submitted: dict, simple_form, checklist=None) -> dict:
    """The agent's block: every request (open first) and the form to ask one.
    ``checklist``: the dossier's required pieces, as the page already read them."""
    kinds = None
    if checklist is not None:
        kinds = [(r.code, r.label) for r in checklist] + [("other", "Autre pièce")]
    corrections = list(selectors.correction_list(user=user, case=case))
    labels = target_labels(case, kinds) if corrections else {}
    may_close = user.effective_role in ("agent", "admin")
    rows = []
    for c in corrections:
        is_open = c.state == CorrectionState.OPEN
        closable = is_open and (may_close or c.requested_by_id == user.pk)
        rows.append({"c": c, "label": _label(labels, c), "open": is_open, "closable": closable})
    rows.sort(key=lambda r: not r["open"])
    may_ask = allowed(user, "correction_request") and not case.is_terminal
    return {
        "correction_rows": rows,
        "correction_kinds": kinds,
        "correction_form": (
            simple_form(CorrectionForm, "correction", submitted, case=case, kinds=kinds)
            if may_ask
            else None
        ),
    }


def porteur_block(user, case, failed: tuple | None = None) -> dict:
    """The porteur's open requests, each with where and how to correct it. ``failed``:
    (correction id, form) of a refused correction, shown as typed."""
    corrections = list(selectors.correction_list(user=user, case=case, open_only=True))
    labels = target_labels(case) if corrections else {}
    rows = []
    for c in corrections:
        row = {"c": c, "label": _label(labels, c), "form": None, "url": ""}
        if c.target_kind == CorrectionTarget.DOCUMENT:
            row["url"] = "#pieces"
        elif c.target in INLINE_FIELDS:
            if failed and failed[0] == c.pk:
                row["form"] = failed[1]
            else:
                row["form"] = FieldCorrectionForm(
                    initial={"value": getattr(case, c.target)}, auto_id=f"id_corr{c.pk}_%s"
                )
        else:
            row["url"] = step_url(case, "plan" if c.target == "financing_plan" else "projet")
        rows.append(row)
    return {
        "open_corrections": rows,
        "document_corrections": [r for r in rows if r["c"].target_kind == "document"],
    }


def field_corrections(case) -> dict[str, list]:
    """The open requests on fields, by field name: the steps show each next to its field."""
    if case is None or not getattr(case, "pk", None):
        return {}
    out: dict[str, list] = {}
    for c in selectors.correction_list(user=None, case=case, open_only=True).filter(
        target_kind=CorrectionTarget.FIELD
    ):
        out.setdefault(c.target, []).append(c)
    return out


def _events(case, corrections=None, kinds=None) -> list[dict]:
    """``corrections`` and ``kinds``: as the page already read them, else read here."""
    if corrections is None:
        corrections = list(selectors.correction_list(user=None, case=case))
    labels = target_labels(case, kinds) if corrections else {}
    events = []
    for c in corrections:
        label = _label(labels, c)
        events.append(
            {
                "at": c.created_at,
                "what": f"Correction demandée : {label}",
                "by": c.requested_by,
                "comment": c.body,
            }
        )
        if c.closed_at:
            done = (
                "Correction faite"
                if c.state == CorrectionState.CORRECTED
                else ("Demande de correction close")
            )
            events.append(
                {"at": c.closed_at, "what": f"{done} : {label}", "by": c.closed_by, "comment": ""}
            )
    return events


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else "automatique"


def _merged(items: list[dict], extra: list[dict]) -> list[dict]:
    """``extra`` inserted by time, the recorded order of ``items`` kept."""
    out, extra = [], sorted(extra, key=lambda e: e["at"])
    for item in items:
        while extra and extra[0]["at"] < item["at"]:
            out.append(extra.pop(0))
        out.append(item)
    return out + extra


def with_porteur_history(items: list[dict], case) -> list[dict]:
    extra = [
        {
            "at": e["at"],
            "text": e["what"],
            "who": _who(e["by"]),
            "comment": e["comment"],
            "extension": None,
        }
        for e in _events(case)
    ]
    return _merged(items, extra)


def with_agent_history(rows: list[dict], case, corrections=None, kinds=None) -> list[dict]:
    extra = [
        {
            "at": e["at"],
            "comment": e["comment"],
            "subject": "Dossier",
            "label": e["what"],
            "by": _who(e["by"]),
            "extension": None,
        }
        for e in _events(case, corrections, kinds)
    ]
    return _merged(rows, extra)
