"""The programming drafts of issue 14: what-if scenarios of the year's programme and the
funders' conference sessions. Neither changes a dossier: a scenario changes requests only
when it is applied through the bulk transition service, and a conference position is an
intention, not a decision (domain.md « Programming »)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .base import money_bounds, money_field
from .case import Case
from .funding import FundingRequest


class Scenario(models.Model):
    """A draft programme of one territory for one year, several side by side."""

    territory = models.ForeignKey(
        "schemes.Territory",
        on_delete=models.PROTECT,
        related_name="scenarios",
        verbose_name="territoire",
    )
    year = models.PositiveSmallIntegerField("année de programmation")
    title = models.CharField("intitulé", max_length=200)
    note = models.TextField("note", blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="créé par",
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)
    applied_at = models.DateTimeField("appliqué le", null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="appliqué par",
    )

    class Meta:
        verbose_name = "scénario de programmation"
        verbose_name_plural = "scénarios de programmation"
        ordering = ["-year", "title", "pk"]

    def __str__(self):
        return f"{self.title} ({self.year})"


class ScenarioChoice(models.TextChoices):
    FUND = "fund", "À financer"
    POSTPONE = "postpone", "À reporter"
    REFUSE = "refuse", "À refuser"


class ItemOutcome(models.TextChoices):
    APPLIED = "applied", "Appliqué"
    REFUSED = "refused", "Refusé"
    POSTPONED = "postponed", "Reporté"


class ScenarioItem(models.Model):
    """What the scenario does with one request, and the request as the agent saw it (a
    changed state or amount makes the item stale: it is refused when applied)."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="items")
    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="+", verbose_name="demande"
    )
    choice = models.CharField("choix", max_length=10, choices=ScenarioChoice.choices)
    amount = money_field("montant retenu", null=True, blank=True)
    motivation = models.TextField("motivation", blank=True, default="")
    seen_state = models.CharField("état vu", max_length=30)
    seen_amount = money_field("montant demandé vu")
    outcome = models.CharField(
        "issue de l'application", max_length=10, choices=ItemOutcome.choices, blank=True, default=""
    )
    result = models.TextField("résultat de l'application", blank=True, default="")

    class Meta:
        verbose_name = "choix d'un scénario"
        verbose_name_plural = "choix des scénarios"
        ordering = ["scenario", "funding_request"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "funding_request"], name="scenario_item_unique_request"
            ),
            *money_bounds("scenario_item", "amount", "seen_amount"),
        ]


class ConferenceSession(models.Model):
    """A session of the funders' conference (« conférence des financeurs »)."""

    territory = models.ForeignKey(
        "schemes.Territory",
        on_delete=models.PROTECT,
        related_name="conference_sessions",
        verbose_name="territoire",
    )
    date = models.DateField("date")
    title = models.CharField("intitulé", max_length=200)
    place = models.CharField("lieu", max_length=200, blank=True, default="")
    funders = models.ManyToManyField(
        "schemes.Funder", blank=True, related_name="+", verbose_name="financeurs présents"
    )
    notes = models.TextField("relevé des échanges", blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "conférence des financeurs"
        verbose_name_plural = "conférences des financeurs"
        ordering = ["-date", "pk"]

    def __str__(self):
        return f"{self.title} ({self.date:%d/%m/%Y})"


class ConferenceItem(models.Model):
    """A dossier on the agenda of a conference session."""

    session = models.ForeignKey(ConferenceSession, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "dossier à l'ordre du jour"
        verbose_name_plural = "ordre du jour"
        ordering = ["session", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "case"], name="conference_item_unique_case")
        ]


class PositionStance(models.TextChoices):
    FUND = "fund", "Financera"
    DECLINE = "decline", "Ne financera pas"
    MORE = "more", "Demande des compléments"


class ConferencePosition(models.Model):
    """A funder's position on one request at a session: an intention, not a decision."""

    session = models.ForeignKey(
        ConferenceSession, on_delete=models.CASCADE, related_name="positions"
    )
    funding_request = models.ForeignKey(
        FundingRequest,
        on_delete=models.CASCADE,
        related_name="conference_positions",
        verbose_name="demande",
    )
    stance = models.CharField("position", max_length=10, choices=PositionStance.choices)
    amount = money_field("montant envisagé", null=True, blank=True)
    comment = models.TextField("commentaire", blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "position d'un financeur"
        verbose_name_plural = "positions des financeurs"
        ordering = ["session", "funding_request"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "funding_request"], name="conference_position_unique"
            ),
            *money_bounds("conference_position", "amount"),
        ]
