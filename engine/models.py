"""Generic machinery: deadlines with indexed due dates, and the outbox of domain events.

The engine knows nothing about funding: a deadline or an event points at any subject
(content type + id) and at the aggregate it belongs to (``aggregate_id``, e.g. a dossier),
so that the layers above can scope them without joins through generic relations.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class Deadline(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Ouverte"
        SUSPENDED = "suspended", "Suspendue"
        MET = "met", "Respectée"
        MISSED = "missed", "Dépassée"
        CANCELLED = "cancelled", "Annulée"

    kind = models.CharField(max_length=40, verbose_name="type")
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name="type d'objet"
    )
    subject_id = models.BigIntegerField(verbose_name="identifiant de l'objet")
    aggregate_id = models.BigIntegerField(help_text="Dossier auquel l'échéance se rattache.")
    due_on = models.DateField(verbose_name="échéance le")
    party = models.CharField(
        max_length=30, help_text="Rôle qui doit agir.", verbose_name="partie qui doit agir"
    )
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.OPEN, verbose_name="état"
    )
    expiry_transition = models.CharField(
        max_length=60, blank=True, default="", help_text="Transition automatique à l'échéance."
    )
    days_left_when_suspended = models.IntegerField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        verbose_name = "échéance"
        verbose_name_plural = "échéances"
        indexes = [
            models.Index(
                fields=["due_on"], name="deadline_open_due_idx", condition=models.Q(state="open")
            ),
            # the missed deadlines still escalating (reminders read a few days of them)
            models.Index(
                fields=["due_on"],
                name="deadline_missed_due_idx",
                condition=models.Q(state="missed"),
            ),
            models.Index(fields=["subject_type", "subject_id", "state"], name="deadline_subj_idx"),
            models.Index(fields=["aggregate_id", "state"], name="deadline_aggr_idx"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.due_on} ({self.state})"

    @property
    def subject_label(self) -> str:
        return self.subject_type.model


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it reports."""

    topic = models.CharField(max_length=80, verbose_name="sujet")
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name="type d'objet"
    )
    subject_id = models.BigIntegerField(verbose_name="identifiant de l'objet")
    aggregate_id = models.BigIntegerField(null=True)
    actor_id = models.BigIntegerField(null=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, verbose_name="créé le")
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name="traité le")
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "événement"
        verbose_name_plural = "événements"
        indexes = [
            models.Index(
                fields=["id"], name="outbox_pending_idx", condition=models.Q(processed_at=None)
            ),
        ]

    def __str__(self):
        return f"{self.topic} #{self.subject_id}"


class AccessLog(models.Model):
    """Who read or exported a dossier's data (GDPR accountability, art. 5(2)).

    Written by ``engine.audit.access_record`` in one INSERT; reads are kept at most once per
    user, dossier and hour (the partial unique constraint absorbs the repeats)."""

    class Action(models.TextChoices):
        READ = "read", "Consultation"
        EXPORT = "export", "Export ou téléchargement"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    username = models.CharField(
        max_length=150, help_text="Conservé si le compte disparaît.", verbose_name="identifiant"
    )
    role = models.CharField(max_length=30, blank=True, default="", verbose_name="rôle")
    action = models.CharField(max_length=10, choices=Action.choices, verbose_name="action")
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name="type d'objet"
    )
    subject_id = models.BigIntegerField(verbose_name="identifiant de l'objet")
    aggregate_id = models.BigIntegerField(help_text="Dossier concerné.")
    at = models.DateTimeField(default=timezone.now, verbose_name="date et heure")
    hour = models.DateTimeField(help_text="Heure (tronquée) : une consultation par heure.")
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name="adresse IP")

    class Meta:
        verbose_name = "accès aux données"
        verbose_name_plural = "journal des accès aux données"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["aggregate_id", "-at"], name="accesslog_aggr_idx"),
            models.Index(fields=["user", "-at"], name="accesslog_user_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "aggregate_id", "hour"],
                condition=models.Q(action="read"),
                name="accesslog_one_read_per_hour",
            )
        ]

    def __str__(self):
        return f"{self.username} {self.action} {self.subject_type_id}#{self.subject_id}"
