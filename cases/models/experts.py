"""An outside expert asked for an opinion on one dossier, by e-mail, without an account.

The expert receives a one-time link; only the SHA-256 of its random token is stored. The
invitation carries the expert's answer itself: ``Opinion`` belongs to an account
(``author`` is required) and its values include « ajourné », while an expert has no
account and gives a text with, optionally, « favorable » or « défavorable »."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .case import Case


class ExpertInvitation(models.Model):
    class Value(models.TextChoices):
        FAVOURABLE = "favourable", "Favorable"
        UNFAVOURABLE = "unfavourable", "Défavorable"

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="expert_invitations", verbose_name="dossier"
    )
    name = models.CharField("nom de l'expert", max_length=200)
    email = models.EmailField("adresse électronique de l'expert")
    question = models.TextField("question posée")
    token_hash = models.CharField("empreinte du lien", max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="invité par",
    )
    invited_at = models.DateTimeField("invité le", default=timezone.now)
    expires_at = models.DateTimeField("lien valable jusqu'au")
    answered_at = models.DateTimeField("avis donné le", null=True, blank=True)
    answer = models.TextField("avis", blank=True, default="")
    answer_value = models.CharField(
        "sens de l'avis", max_length=20, choices=Value, blank=True, default=""
    )

    class Meta:
        verbose_name = "invitation d'un expert"
        verbose_name_plural = "invitations d'experts"
        ordering = ["invited_at", "id"]
        indexes = [models.Index(fields=["case", "invited_at"])]

    def __str__(self):
        return f"{self.name} — {self.case}"
