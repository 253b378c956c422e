"""In-app notifications, reminders (exactly once), alerts, calendar feeds, digests."""

import secrets

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """An in-app message for one user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    message = models.TextField()
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject_id = models.BigIntegerField(null=True, blank=True)
    aggregate_id = models.BigIntegerField(null=True, blank=True)
    dedup_key = models.CharField(max_length=120, help_text="Garantit une seule notification.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "notification"
        verbose_name_plural = "notifications"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedup_key"], name="notification_once")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notif_user_unread_idx")]

    def __str__(self):
        return f"{self.user} — {self.kind}"


class Reminder(models.Model):
    """One reminder of one deadline for one recipient at one offset: the unique key makes
    it exactly once, whatever the number of sweeps or workers. A deadline that moves gets a
    new schedule (``due_on`` is part of the key); a closed one gets none."""

    class State(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Envoyé"
        CANCELLED = "cancelled", "Annulé"

    # no index of its own: the unique key ``reminder_once`` starts with the deadline
    deadline = models.ForeignKey(
        "engine.Deadline", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    due_on = models.DateField(help_text="Échéance à laquelle le rappel se rapporte.")
    offset = models.SmallIntegerField(help_text="Jours avant l'échéance (négatif : après).")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    escalation = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "rappel"
        verbose_name_plural = "rappels"
        constraints = [
            models.UniqueConstraint(
                fields=["deadline", "due_on", "offset", "recipient"], name="reminder_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="reminder_pending_idx",
                condition=models.Q(state="pending"),
            )
        ]


class Alert(models.Model):
    class Kind(models.TextChoices):
        PAYMENT_OVERDUE = "payment_overdue", "Paiement en retard"
        TREASURY_RISK = "treasury_risk", "Risque de trésorerie"
        FEADER_BLOCKED = "feader_blocked", "FEADER bloqué par un cofinanceur"
        INSTALLMENT_CEILING = "installment_ceiling", "Plafond des acomptes atteint"
        LATE_FORECAST = "late_forecast", "Paiement prévu trop tard"
        PROGRAMME_END = "programme_end", "Paiement prévu après la fin du programme FEADER"
        WORKS_DEADLINE_MISSED = "works_deadline_missed", "Échéance de travaux dépassée"
        PROGRAMME_AT_RISK = "programme_at_risk", "Crédits du programme LEADER en danger"

    class State(models.TextChoices):
        OPEN = "open", "Ouverte"
        ACKNOWLEDGED = "acknowledged", "Prise en compte"
        RESOLVED = "resolved", "Résolue"

    class Severity(models.IntegerChoices):
        INFO = 1, "Information"
        WARNING = 2, "Attention"
        CRITICAL = 3, "Critique"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.INFO)
    state = models.CharField(max_length=15, choices=State.choices, default=State.OPEN)
    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    subject_id = models.BigIntegerField()
    # A programme alert (a LEADER action sheet) has no organisation: its territory's staff.
    organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.CASCADE, related_name="alerts", null=True
    )
    territory = models.ForeignKey(
        "schemes.Territory", on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "alerte"
        verbose_name_plural = "alertes"
        ordering = ["-severity", "-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind"],
                condition=models.Q(state__in=["open", "acknowledged"]),
                name="one_live_alert_per_subject_kind",
            ),
            # About an organisation, or about a territory's programme: never about no one.
            models.CheckConstraint(
                condition=models.Q(organisation__isnull=False) | models.Q(territory__isnull=False),
                name="alert_has_organisation_or_territory",
            ),
        ]
        indexes = [models.Index(fields=["state", "kind"], name="alert_state_kind_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_state_display()})"


def new_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """The secret of a user's iCalendar feed; regenerate it to revoke old links."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_token"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "jeton de flux iCalendar"
        verbose_name_plural = "jetons de flux iCalendar"


class DigestLog(models.Model):
    """One digest per user and period (unique key): never twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=20, help_text="daily:AAAA-MM-JJ ou weekly:AAAA-Wnn")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "récapitulatif envoyé"
        verbose_name_plural = "récapitulatifs envoyés"
        constraints = [models.UniqueConstraint(fields=["user", "period"], name="digest_once")]
