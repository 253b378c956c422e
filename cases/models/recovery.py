"""Recovery orders (ordres de reversement): what a funder asks back when a request was
paid more than the amount finally due (revised rule 6; CGCT R2334-31 for DETR)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from engine.fsm import ConcurrentTransitionMixin

from .base import logged, money_bounds, money_field
from .funding import FundingRequest


class RecoveryState(models.TextChoices):
    DRAFT = "draft", "En préparation"
    ISSUED = "issued", "Émis"
    RECOVERED = "recovered", "Reversé"
    CANCELLED = "cancelled", "Annulé"


class RecoveryOrder(ConcurrentTransitionMixin, models.Model):
    """Created and issued in one step by ``cases.services.recovery_order_issue`` (a draft
    never outlives that transaction), then recovered or cancelled by the funder."""

    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="recovery_orders"
    )
    amount = money_field("montant à reverser")
    issued_on = models.DateField("date de l'ordre de reversement")
    reason = models.TextField("motif")
    state = FSMField(default=RecoveryState.DRAFT, choices=RecoveryState.choices, protected=True)
    recovered_on = models.DateField(null=True, blank=True)
    motivation = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "ordre de reversement"
        verbose_name_plural = "ordres de reversement"
        ordering = ["id"]
        constraints = money_bounds("recovery", "amount")

    def __str__(self):
        return f"Reversement {self.amount} € — {self.funding_request}"

    @logged
    @transition(field=state, source=RecoveryState.DRAFT, target=RecoveryState.ISSUED)
    def issue(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RecoveryState.ISSUED, target=RecoveryState.RECOVERED)
    def recover(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RecoveryState.ISSUED, target=RecoveryState.CANCELLED)
    def cancel(self, *, by=None, description=None, ctx=None):
        pass
