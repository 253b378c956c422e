"""What a porteur declares for its treasury forecast (issue 13): its cash at hand (dated
today), its cash limit, the date it needs the money by, its FCTVA regime; per live
dossier, the planned works period and the planned invoices (which then replace the even
spread of the expenses, ``cases.treasury``).

Only the porteur of the organisation writes these (its territory's staff read the
forecast); every value typed in a page is read by ``engine.inputs`` (French amounts and
dates), and a refusal is one ``DomainError`` naming every field it refuses.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from engine import inputs
from engine.errors import DomainError
from engine.transitions import root_lock

from ..models import Case, Organisation, PlannedInvoice
from .common import R, clean_text

#: The dossiers whose plan the porteur may still declare: decided or in works (a
#: completed operation pays nothing more).
PLANNABLE_STATES = ("decided", "in_progress")
MAX_PLANNED_INVOICES = 100
FCTVA_REGIMES = {"0": 0, "1": 1, "2": 2}

NOT_YOURS = "Seul le porteur de l'organisation déclare sa trésorerie."


def _require_porteur_of(actor, organisation_id: int) -> None:
    if (
        getattr(actor, "effective_role", None) != R.PORTEUR
        or actor.organisation_id != organisation_id
    ):
        raise DomainError(NOT_YOURS, code="forbidden")


def _collect(data: dict, readers: dict) -> dict:
    """Every field read, every refusal gathered: one error naming each refused field."""
    values, errors, messages = {}, {}, []
    for name, reader in readers.items():
        try:
            values[name] = reader(data.get(name))
        except DomainError as exc:
            errors[name] = [exc.message]
            messages.append(exc.message)
    if errors:
        raise DomainError(" ".join(messages), errors=errors)
    return values


def organisation_treasury_update(
    *, actor, organisation: Organisation, data: dict, today: dt.date | None = None
) -> Organisation:
    """Cash at hand (dated ``today``), cash limit, money needed by, FCTVA regime. An empty
    amount or date clears it."""
    _require_porteur_of(actor, organisation.pk)
    today = today or timezone.localdate()

    def regime(value):
        text = str(value if value is not None else "").strip()
        if text not in FCTVA_REGIMES:
            raise DomainError(
                "Régime FCTVA : choisissez l'année N, N+1 ou N+2.",
                errors={"fctva_regime": ["Choix invalide."]},
            )
        return FCTVA_REGIMES[text]

    values = _collect(
        data,
        {
            "cash_at_hand": lambda v: inputs.parse_money(
                v,
                field="cash_at_hand",
                label="montant de la trésorerie disponible",
                french=True,
                allow_zero=True,
                required=False,
            ),
            "cash_limit": lambda v: inputs.parse_money(
                v,
                field="cash_limit",
                label="seuil de trésorerie",
                french=True,
                allow_zero=True,
                required=False,
            ),
            "money_needed_by": lambda v: inputs.parse_date(
                v, field="money_needed_by", label="date des fonds nécessaires", french=True
            ),
            "fctva_regime": regime,
        },
    )
    with transaction.atomic():
        org = root_lock(Organisation, organisation.pk)
        org.cash_at_hand = values["cash_at_hand"]
        org.cash_at_hand_on = today if values["cash_at_hand"] is not None else None
        org.cash_limit = values["cash_limit"]
        org.money_needed_by = values["money_needed_by"]
        org.fctva_regime = values["fctva_regime"]
        org.save(
            update_fields=[
                "cash_at_hand",
                "cash_at_hand_on",
                "cash_limit",
                "money_needed_by",
                "fctva_regime",
            ]
        )
    return org


def _plannable_case(actor, case: Case) -> None:
    _require_porteur_of(actor, case.organisation_id)
    if case.state not in PLANNABLE_STATES:
        raise DomainError(
            "Le calendrier des travaux se déclare sur un dossier décidé ou en travaux.",
            code="guard",
        )


def case_works_plan_update(*, actor, case: Case, data: dict) -> Case:
    """The planned start and end of the works (either may be empty); the end not before
    the start."""
    _plannable_case(actor, case)
    values = _collect(
        data,
        {
            "planned_works_start": lambda v: inputs.parse_date(
                v, field="planned_works_start", label="date de début des travaux", french=True
            ),
            "planned_works_end": lambda v: inputs.parse_date(
                v, field="planned_works_end", label="date de fin des travaux", french=True
            ),
        },
    )
    start, end = values["planned_works_start"], values["planned_works_end"]
    if start and end and end < start:
        message = (
            f"La fin des travaux ({end:%d/%m/%Y}) ne peut pas précéder leur début "
            f"({start:%d/%m/%Y})."
        )
        raise DomainError(message, errors={"planned_works_end": [message]})
    with transaction.atomic():
        locked = root_lock(Case, case.pk)
        locked.planned_works_start = start
        locked.planned_works_end = end
        locked.save(update_fields=["planned_works_start", "planned_works_end"])
    case.planned_works_start, case.planned_works_end = start, end
    return case


def planned_invoice_add(*, actor, case: Case, data: dict) -> PlannedInvoice:
    """One planned invoice (date, amount TTC, label), at most ``MAX_PLANNED_INVOICES`` per
    dossier (counted under the dossier's lock)."""
    _plannable_case(actor, case)
    values = _collect(
        data,
        {
            "due_on": lambda v: inputs.parse_date(
                v, field="due_on", label="date de paiement prévue", required=True, french=True
            ),
            "amount": lambda v: inputs.parse_money(
                v, field="amount", label="montant de la facture", french=True
            ),
            "label": lambda v: clean_text(v, field="label", label="libellé", max_length=200),
        },
    )
    with transaction.atomic():
        root_lock(Case, case.pk)
        if PlannedInvoice.objects.filter(case_id=case.pk).count() >= MAX_PLANNED_INVOICES:
            raise DomainError(
                f"Un dossier compte au plus {MAX_PLANNED_INVOICES} factures prévues : "
                "regroupez-en ou retirez-en une.",
                code="guard",
            )
        return PlannedInvoice.objects.create(case_id=case.pk, **values)


def planned_invoice_remove(*, actor, invoice: PlannedInvoice) -> None:
    case = invoice.case
    _plannable_case(actor, case)
    with transaction.atomic():
        root_lock(Case, case.pk)
        PlannedInvoice.objects.filter(pk=invoice.pk).delete()
