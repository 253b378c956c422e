"""The financing plan of a dossier: its expense lines and its resource lines."""

from __future__ import annotations

from django.db import models

from schemes.models import Scheme

from .base import money_bounds, money_field
from .case import Case


class ExpenseLine(models.Model):
    class Tax(models.TextChoices):
        HT = "HT", "HT"
        TTC = "TTC", "TTC"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="expenses")
    position = models.PositiveIntegerField(default=0)
    label = models.CharField(max_length=200)
    amount = money_field()
    tax = models.CharField(max_length=3, choices=Tax, default=Tax.HT)
    eligible = models.BooleanField(default=True)

    class Meta:
        verbose_name = "ligne de dépense"
        verbose_name_plural = "lignes de dépense"
        ordering = ["position", "id"]
        constraints = money_bounds("expense", "amount")


class ResourceLine(models.Model):
    class Kind(models.TextChoices):
        SCHEME = "scheme", "Dispositif"
        SELF = "self", "Autofinancement"
        OTHER_PUBLIC = "other_public", "Autre financement public"
        OTHER = "other", "Autre financement privé"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="resources")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind)
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, null=True, blank=True)
    label = models.CharField(max_length=200, blank=True, default="")
    amount = money_field()

    class Meta:
        verbose_name = "ligne de ressource"
        verbose_name_plural = "lignes de ressource"
        ordering = ["position", "id"]
        constraints = money_bounds("resource", "amount")
        # the list's scheme filter probes each dossier's lines by scheme (cases.filters)
        indexes = [models.Index(fields=["case", "scheme"], name="resource_case_scheme_idx")]
