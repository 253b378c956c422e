"""Payment claims on a funding request, and the payments made on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, transition

from engine.fsm import ConcurrentTransitionMixin
from schemes.models import Scheme

from .base import logged, money_bounds, money_field
from .funding import FundingRequest


class ClaimState(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    FILED = "filed", "Déposée"
    AWAITING_COFINANCERS = "awaiting_cofinancers", "En attente des cofinanceurs"
    VERIFIED = "verified", "Service fait contrôlé"
    PAID = "paid", "Payée"
    REJECTED = "rejected", "Rejetée"
    WITHDRAWN = "withdrawn", "Retirée"


CLAIM_UNPAID = [ClaimState.FILED, ClaimState.AWAITING_COFINANCERS, ClaimState.VERIFIED]


class PaymentClaim(ConcurrentTransitionMixin, models.Model):
    class Kind(models.TextChoices):
        ADVANCE = "advance", "Avance"
        INSTALLMENT = "installment", "Acompte"
        BALANCE = "balance", "Solde"

    funding_request = models.ForeignKey(
        FundingRequest,
        on_delete=models.CASCADE,
        related_name="claims",
        verbose_name="demande de financement",
    )
    kind = models.CharField(max_length=12, choices=Kind, verbose_name="type")
    amount = money_field("montant demandé")
    # A balance claim: the eligible cost actually paid (revised rule 6); null: as planned.
    actual_cost = money_field("coût éligible réalisé", null=True, blank=True)
    filed_on = models.DateField(null=True, blank=True, verbose_name="déposée le")
    state = FSMField(
        default=ClaimState.DRAFT, choices=ClaimState.choices, protected=True, verbose_name="état"
    )
    verified_on = models.DateField(null=True, blank=True)
    awaiting_since = models.DateField(null=True, blank=True)
    paid_amount = money_field(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True, verbose_name="payée le")
    motivation = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "demande de paiement"
        verbose_name_plural = "demandes de paiement"
        ordering = ["id"]
        indexes = [models.Index(fields=["state", "filed_on"])]
        constraints = money_bounds("claim", "amount", "paid_amount", "actual_cost")

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} € — {self.funding_request}"

    @logged
    @transition(field=state, source=ClaimState.DRAFT, target=ClaimState.FILED)
    def file(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=ClaimState.FILED,
        target=RETURN_VALUE(ClaimState.VERIFIED, ClaimState.AWAITING_COFINANCERS, ClaimState.PAID),
    )
    def verify(self, *, by=None, description=None, ctx=None):
        return ctx.data["target"]

    @logged
    @transition(field=state, source=ClaimState.AWAITING_COFINANCERS, target=ClaimState.VERIFIED)
    def release(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=ClaimState.VERIFIED, target=ClaimState.PAID)
    def pay(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=[ClaimState.FILED, ClaimState.AWAITING_COFINANCERS, ClaimState.VERIFIED],
        target=ClaimState.REJECTED,
    )
    def reject(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state, source=[ClaimState.DRAFT, ClaimState.FILED], target=ClaimState.WITHDRAWN
    )
    def withdraw(self, *, by=None, description=None, ctx=None):
        pass


class Payment(models.Model):
    claim = models.ForeignKey(PaymentClaim, on_delete=models.PROTECT, related_name="payments")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    paid_on = models.DateField()
    delay_days = models.IntegerField("délai depuis la demande (jours)")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "paiement"
        verbose_name_plural = "paiements"
        ordering = ["-paid_on", "-id"]
        indexes = [models.Index(fields=["scheme", "-paid_on"])]
        constraints = money_bounds("payment", "amount")
