"""The LEADER programming committee: sessions, votes, decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from schemes.models import Scheme, Territory

from .base import logged
from .funding import FundingRequest


class SessionState(models.TextChoices):
    PLANNED = "planned", "Programmé"
    CLOSED = "closed", "Clos"


class CommitteeSession(ConcurrentTransitionMixin, models.Model):
    date = models.DateField()
    # Each GAL has its own committee: a session belongs to one territory.
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="committee_sessions", editable=False
    )
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="sessions")
    state = FSMField(default=SessionState.PLANNED, choices=SessionState.choices, protected=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="committee_sessions", blank=True
    )
    agenda = models.ManyToManyField(FundingRequest, related_name="committee_sessions", blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    committee_size = models.PositiveIntegerField(
        "membres du comité à la clôture",
        null=True,
        blank=True,
        help_text="Figé à la clôture : le quorum d'une séance close ne bouge plus.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "séance du comité de programmation"
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"Comité du {self.date:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.territory_id is None:
            self.territory_id = Territory.sole_id()
        super().save(*args, **kwargs)

    @logged
    @transition(field=state, source=SessionState.PLANNED, target=SessionState.CLOSED)
    def close(self, *, by=None, description=None, ctx=None):
        pass


class Vote(models.Model):
    class Choice(models.TextChoices):
        FOR = "for", "Pour"
        AGAINST = "against", "Contre"
        ABSTAIN = "abstain", "Abstention"

    session = models.ForeignKey(CommitteeSession, on_delete=models.CASCADE, related_name="votes")
    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="votes"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    vote = models.CharField(max_length=8, choices=Choice)
    scores = models.JSONField(default=dict, blank=True)
    total_score = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "funding_request", "member"], name="one_vote_per_member"
            )
        ]


class CommitteeDecision(models.Model):
    session = models.ForeignKey(
        CommitteeSession, on_delete=models.CASCADE, related_name="decisions"
    )
    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="committee_decisions"
    )
    outcome = models.CharField(
        max_length=10,
        choices=[("selected", "Sélectionné"), ("adjourned", "Ajourné"), ("rejected", "Rejeté")],
    )
    votes_for = models.PositiveIntegerField(default=0)
    votes_against = models.PositiveIntegerField(default=0)
    votes_abstain = models.PositiveIntegerField(default=0)
    average_score = models.DecimalField(max_digits=6, decimal_places=2, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "funding_request"], name="one_decision_per_request"
            )
        ]
