"""The LEADER programming committee: sessions (meetings or written consultations), votes,
declarations of interest, substitutes, decisions (revised rule 12)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from engine.fsm import ConcurrentTransitionMixin
from schemes.models import Scheme, Territory

from .base import logged
from .funding import FundingRequest


class SessionState(models.TextChoices):
    PLANNED = "planned", "Programmé"
    CLOSED = "closed", "Clos"


class SessionKind(models.TextChoices):
    MEETING = "meeting", "Séance"
    WRITTEN = "written", "Consultation écrite"


class CommitteeSession(ConcurrentTransitionMixin, models.Model):
    # A meeting's day; a written consultation's launch (replies until ``closes_on``).
    date = models.DateField(verbose_name="date")
    kind = models.CharField(max_length=8, choices=SessionKind, default=SessionKind.MEETING)
    closes_on = models.DateField(
        "date limite des réponses",
        null=True,
        blank=True,
        help_text="Consultation écrite : les réponses sont reçues jusqu'à cette date incluse.",
    )
    # Each GAL has its own committee: a session belongs to one territory.
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="committee_sessions",
        editable=False,
        verbose_name="territoire",
    )
    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="sessions", verbose_name="dispositif"
    )
    state = FSMField(
        default=SessionState.PLANNED,
        choices=SessionState.choices,
        protected=True,
        verbose_name="état",
    )
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
        verbose_name_plural = "séances du comité de programmation"
        ordering = ["-date", "-id"]

    def __str__(self):
        if self.kind == SessionKind.WRITTEN:
            return f"Consultation écrite du {self.date:%d/%m/%Y}"
        return f"Comité du {self.date:%d/%m/%Y}"

    @property
    def written(self) -> bool:
        return self.kind == SessionKind.WRITTEN

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
    # A substitute's vote counts for this absent titular's seat (revised rule 12).
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="suppléé",
    )
    vote = models.CharField(max_length=8, choices=Choice)
    scores = models.JSONField(default=dict, blank=True)
    total_score = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "vote"
        verbose_name_plural = "votes"
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
    # Validity of this item on its own (quorum and 49 % rule without conflicted members).
    valid = models.BooleanField(default=True)
    reason = models.TextField("motif de l'ajournement", blank=True, default="")
    present = models.PositiveIntegerField("sièges comptés pour le quorum", null=True)

    class Meta:
        verbose_name = "décision du comité"
        verbose_name_plural = "décisions du comité"
        constraints = [
            models.UniqueConstraint(
                fields=["session", "funding_request"], name="one_decision_per_request"
            )
        ]


class InterestDeclaration(models.Model):
    """A member's conflict of interest on one item of a session: that member takes no part
    in it (EU Reg. 2021/1060 art. 33(3)(b))."""

    session = models.ForeignKey(
        CommitteeSession, on_delete=models.CASCADE, related_name="declarations"
    )
    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="interest_declarations"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("nature de l'intérêt", max_length=500, blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "déclaration de conflit d'intérêts"
        verbose_name_plural = "déclarations de conflit d'intérêts"
        constraints = [
            models.UniqueConstraint(
                fields=["session", "funding_request", "member"], name="one_declaration_per_item"
            )
        ]


class CommitteeSubstitute(models.Model):
    """A titular member's substitute (suppléant), of the same college: votes in the
    titular's seat when the titular is absent (never both)."""

    titular = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="committee_substitute"
    )
    substitute = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="committee_titular"
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    named_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "suppléant au comité"
        verbose_name_plural = "suppléants au comité"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(titular=models.F("substitute")), name="substitute_not_self"
            )
        ]
