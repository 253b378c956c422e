"""A correction asked of the porteur on one field of the dossier or plan, or one document
(issue 12, a Démarches Simplifiées habit).

The request is open until the porteur corrects the target (edits the field, replaces the
document: ``cases.services.corrections`` applies ``correct`` then) or its author closes it
(``close``): two transitions of the engine (``cases.lifecycle.correction``), audited like
every other.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from engine.fsm import ConcurrentTransitionMixin

from .base import logged
from .case import Case
from .funding import FundingRequest


class CorrectionState(models.TextChoices):
    OPEN = "open", "À corriger"
    CORRECTED = "corrected", "Corrigé par le porteur"
    CLOSED = "closed", "Clos par l'agent"


class CorrectionTarget(models.TextChoices):
    FIELD = "field", "Champ"
    DOCUMENT = "document", "Pièce"


class CorrectionRequest(ConcurrentTransitionMixin, models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="correction_requests")
    # Set when a funder's instructor asks for its own request.
    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target_kind = models.CharField("cible", max_length=10, choices=CorrectionTarget)
    # A field name (``cases.services.corrections.FIELDS``) or a document kind code.
    target = models.CharField("champ ou pièce", max_length=60)
    body = models.TextField("message")
    state = FSMField(
        "état",
        max_length=10,
        choices=CorrectionState.choices,
        default=CorrectionState.OPEN,
        protected=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "demande de correction"
        verbose_name_plural = "demandes de correction"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "state"], name="correction_case_state_idx")]

    def __str__(self):
        return f"{self.get_target_kind_display()} {self.target} — {self.get_state_display()}"

    @logged
    @transition(field=state, source=CorrectionState.OPEN, target=CorrectionState.CORRECTED)
    def correct(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=CorrectionState.OPEN, target=CorrectionState.CLOSED)
    def close(self, *, by=None, description=None, ctx=None):
        pass
