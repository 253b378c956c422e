"""The invoices a porteur plans to pay on an operation (issue 13): when given, the treasury
forecast takes them instead of spreading the expenses evenly over the works period."""

from __future__ import annotations

from django.db import models

from .base import money_bounds, money_field
from .case import Case


class PlannedInvoice(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="planned_invoices")
    due_on = models.DateField("date de paiement prévue")
    amount = money_field("montant TTC")
    label = models.CharField("libellé", max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "facture prévue"
        verbose_name_plural = "factures prévues"
        ordering = ["due_on", "id"]
        constraints = money_bounds("planned_invoice", "amount")

    def __str__(self):
        return f"{self.label or 'Facture'} {self.amount} € le {self.due_on:%d/%m/%Y}"
