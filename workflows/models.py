"""Funders and schemes: data, editable in the admin. Code reads these, never constants."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models


class Funder(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        verbose_name = "financeur"
        ordering = ["name"]

    def __str__(self):
        return self.name


def default_reminder_offsets():
    return [30, 7, 1, 0]


def default_grid():
    return []


class Scheme(models.Model):
    class FlowKind(models.TextChoices):
        STANDARD = "standard", "Standard"
        LEADER = "leader", "LEADER (comité de programmation)"

    class StartFrom(models.TextChoices):
        GRANT = "grant", "Notification de la décision"
        COMMIT = "commit", "Signature de la convention"

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=160)
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="schemes")
    flow_kind = models.CharField(max_length=20, choices=FlowKind, default=FlowKind.STANDARD)
    committee = models.BooleanField("passe en comité LEADER", default=False)
    is_feader = models.BooleanField("fonds européen (FEADER)", default=False)
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True, default="")

    # Financing-plan parameters
    rate_min = models.DecimalField("taux minimal", max_digits=5, decimal_places=4, default=0)
    rate_max = models.DecimalField("taux maximal", max_digits=5, decimal_places=4, default=1)
    public_aid_ceiling = models.DecimalField(
        "plafond d'aides publiques (part du coût éligible)",
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.80"),
    )
    min_amount = models.DecimalField(
        "aide minimale (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    national_match_ratio = models.DecimalField(
        "FEADER ≤ n × contreparties publiques nationales",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    envelope = models.DecimalField(
        "enveloppe (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    required_documents = models.JSONField(
        "pièces obligatoires", default=list, blank=True, help_text='[{"code": …, "label": …}]'
    )

    # Deadlines (months unless stated)
    completeness_months = models.PositiveSmallIntegerField(null=True, blank=True, default=3)
    documents_days = models.PositiveSmallIntegerField(
        "délai de production des pièces (jours)", default=30
    )
    implicit_decision_months = models.PositiveSmallIntegerField(null=True, blank=True, default=2)
    works_start_months = models.PositiveSmallIntegerField(default=24)
    works_start_from = models.CharField(max_length=10, choices=StartFrom, default=StartFrom.GRANT)
    works_start_extension_months = models.PositiveSmallIntegerField(default=12)
    completion_months = models.PositiveSmallIntegerField(
        "achèvement (mois après le début ou la convention)", default=48
    )
    completion_from = models.CharField(
        max_length=10,
        choices=[("start", "Début des travaux"), ("commit", "Signature de la convention")],
        default="start",
    )
    balance_claim_months = models.PositiveSmallIntegerField(
        "demande de solde (mois après l'achèvement)", default=6
    )
    reminder_offsets = models.JSONField(
        "rappels (jours avant l'échéance)", default=default_reminder_offsets
    )

    # Payments
    advance_max_rate = models.DecimalField(
        "avance maximale", max_digits=5, decimal_places=4, null=True, blank=True
    )
    installments_max_rate = models.DecimalField(
        "avance + acomptes avant le solde", max_digits=5, decimal_places=4, default=Decimal("0.80")
    )
    balance_requires_completion = models.BooleanField(default=True)
    expected_payment_delay_days = models.PositiveSmallIntegerField(default=60)

    # LEADER committee
    grid = models.JSONField(
        "grille de sélection",
        default=default_grid,
        blank=True,
        help_text='[{"code": …, "label": …, "max": points}]',
    )
    grid_min_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    quorum_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.50"))
    max_group_share = models.DecimalField(
        "part maximale d'un groupe d'intérêt",
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.49"),
    )

    class Meta:
        verbose_name = "dispositif"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"

    def clean(self):
        if self.rate_min > self.rate_max:
            raise ValidationError("Le taux minimal dépasse le taux maximal.")
        for doc in self.required_documents or []:
            if not isinstance(doc, dict) or not doc.get("code") or not doc.get("label"):
                raise ValidationError("Chaque pièce doit avoir un « code » et un « label ».")

    @property
    def grid_max_score(self) -> Decimal:
        return sum((Decimal(str(c.get("max", 0))) for c in self.grid or []), Decimal(0))

    def required_document_codes(self) -> list[str]:
        return [d["code"] for d in self.required_documents or []]
