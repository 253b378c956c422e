"""Extensions (prorogations) of a funding request's works deadlines (domain.md, revised
rule 5): asked by the porteur or an agent before the deadline, granted or refused by the
funder's instructor. A granted extension moves the deadline (``cases.lifecycle.extension``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from engine.fsm import ConcurrentTransitionMixin

from .base import logged
from .funding import FundingRequest


class ExtensionState(models.TextChoices):
    REQUESTED = "requested", "Demandée"
    GRANTED = "granted", "Accordée"
    REFUSED = "refused", "Refusée"


class Extension(ConcurrentTransitionMixin, models.Model):
    class Deadline(models.TextChoices):
        WORKS_START = "works_start", "Commencement des travaux"
        WORKS_COMPLETION = "works_completion", "Achèvement des travaux"

    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="extensions"
    )
    deadline = models.CharField("échéance prorogée", max_length=20, choices=Deadline)
    due_on = models.DateField("échéance à la demande")
    until = models.DateField("nouvelle échéance demandée")
    reason = models.TextField("motif de la demande")
    state = FSMField(
        default=ExtensionState.REQUESTED, choices=ExtensionState.choices, protected=True
    )
    motivation = models.TextField("motivation de la décision", blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "prorogation"
        verbose_name_plural = "prorogations"
        ordering = ["id"]
        indexes = [models.Index(fields=["funding_request", "deadline", "state"])]

    def __str__(self):
        return f"Prorogation {self.get_deadline_display()} → {self.until} ({self.state})"

    @logged
    @transition(field=state, source=ExtensionState.REQUESTED, target=ExtensionState.GRANTED)
    def grant(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=ExtensionState.REQUESTED, target=ExtensionState.REFUSED)
    def refuse(self, *, by=None, description=None, ctx=None):
        pass
