"""What hangs on a dossier besides its plan: documents, opinions, messages and notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .case import Case


def document_path(instance, filename):
    return f"dossiers/{instance.case_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class Document(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=40)
    label = models.CharField(max_length=200, blank=True, default="")
    file = models.FileField(upload_to=document_path, max_length=300)
    filename = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "document"
        verbose_name_plural = "documents"
        ordering = ["uploaded_at", "id"]


class Opinion(models.Model):
    class Kind(models.TextChoices):
        OPPORTUNITY = "opportunity", "Avis d'opportunité"
        EPCI = "epci", "Avis de l'EPCI"
        TRANSITION = "transition", "Lecture transitionnelle"

    class Value(models.TextChoices):
        FAVOURABLE = "favourable", "Favorable"
        ADJOURNED = "adjourned", "Ajourné"
        UNFAVOURABLE = "unfavourable", "Défavorable"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="opinions")
    kind = models.CharField(max_length=20, choices=Kind)
    value = models.CharField(max_length=20, choices=Value)
    text = models.TextField(blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "avis"
        verbose_name_plural = "avis"


class Message(models.Model):
    """A message between the porteur and the PETR on a dossier, or an internal note that
    porteurs never see (``internal=True``)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    internal = models.BooleanField("note interne (invisible du porteur)", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "message"
        verbose_name_plural = "messages"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "internal", "created_at"])]

    def __str__(self):
        return f"{self.author} — {self.created_at:%d/%m/%Y}"


def attachment_path(instance, filename):
    # Never served by URL: the download view checks who may read the dossier.
    return f"messages/{instance.message.case_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class MessageAttachment(models.Model):
    """A file sent with a message, with the same checks as a document
    (``cases.uploads``)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "pièce jointe d'un message"
        verbose_name_plural = "pièces jointes des messages"
        ordering = ["id"]

    def __str__(self):
        return self.filename
