"""Funding requests: one per scheme a dossier asks money from, with its own states."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from engine.fsm import ConcurrentTransitionMixin
from schemes.models import Scheme

from .base import ZERO, logged, money_bounds, money_field
from .case import Case


class RequestState(models.TextChoices):
    REQUESTED = "requested", "Demandée"
    INSTRUCTING = "instructing", "En instruction"
    AWAITING_COMMITTEE = "awaiting_committee", "En attente du comité"
    SELECTED = "selected", "Sélectionnée par le comité"
    ADJOURNED = "adjourned", "Ajournée par le comité"
    REJECTED = "rejected", "Rejetée par le comité"
    GRANTED = "granted", "Accordée"
    REFUSED = "refused", "Refusée"
    COMMITTED = "committed", "Engagée"
    PAYING = "paying", "En paiement"
    PAID = "paid", "Payée"
    WITHDRAWN = "withdrawn", "Retirée"
    LAPSED = "lapsed", "Caduque"


REQUEST_UNDECIDED = [
    RequestState.REQUESTED,
    RequestState.INSTRUCTING,
    RequestState.AWAITING_COMMITTEE,
    RequestState.SELECTED,
    RequestState.ADJOURNED,
]
REQUEST_GRANTED = [
    RequestState.GRANTED,
    RequestState.COMMITTED,
    RequestState.PAYING,
    RequestState.PAID,
]
#: Granted requests whose grant still runs (not yet entirely paid).
LIVE_GRANTS = [RequestState.GRANTED, RequestState.COMMITTED, RequestState.PAYING]
#: Requests out of the programme: neither in the maquette nor discussed at a conference.
DEAD_REQUESTS = [
    RequestState.REFUSED,
    RequestState.WITHDRAWN,
    RequestState.LAPSED,
    RequestState.REJECTED,
]


def _needs_committee(fr) -> bool:
    return fr.scheme.committee


def _no_committee(fr) -> bool:
    return not fr.scheme.committee


class FundingRequest(ConcurrentTransitionMixin, models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="funding_requests", verbose_name="dossier"
    )
    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="requests", verbose_name="dispositif"
    )
    # LEADER: the action sheet (fiche-action) of the GAL's strategy it is counted in.
    action_sheet = models.ForeignKey(
        "schemes.ActionSheet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name="fiche-action",
    )
    state = FSMField(
        default=RequestState.REQUESTED,
        choices=RequestState.choices,
        protected=True,
        verbose_name="état",
    )
    amount_requested = money_field()
    amount_granted = money_field(null=True, blank=True)
    amount_paid = money_field(default=ZERO)
    granted_on = models.DateField("date de notification", null=True, blank=True)
    committed_on = models.DateField(null=True, blank=True)
    motivation = models.TextField(blank=True, default="")
    pre_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # Its funder's own legal track (domain.md, revised rules 1-3; ADR 009)
    sent_on = models.DateField("envoyée au financeur le", null=True, blank=True)
    received_on = models.DateField("reçue par le financeur le", null=True, blank=True)
    complete_on = models.DateField("complète le", null=True, blank=True)
    eligibility_start = models.DateField("début d'éligibilité des dépenses", null=True, blank=True)
    implicit_decision_on = models.DateField("décision implicite le", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The year it counts in (``cases.programming_year``: kept by ``save``)
    programming_year = models.PositiveSmallIntegerField("année de programmation", null=True)
    # Its dossier's territory and liveness, copied (``cases.request_copy``: kept there only)
    case_territory = models.ForeignKey(
        "schemes.Territory",
        on_delete=models.PROTECT,
        null=True,
        db_index=False,  # the first column of request_territory_year
        related_name="+",
        verbose_name="territoire du dossier",
    )
    case_live = models.BooleanField("dossier en cours", default=True)

    class Meta:
        verbose_name = "demande de financement"
        verbose_name_plural = "demandes de financement"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "scheme"], name="one_request_per_scheme"),
            *money_bounds("request", "amount_requested", "amount_granted", "amount_paid"),
        ]
        indexes = [
            models.Index(fields=["scheme", "state"]),
            models.Index(
                fields=["programming_year", "scheme", "state"], name="request_year_scheme_state"
            ),
            # ``include``: PostgreSQL reads the maquette's years and its operations' count
            # (every live request of a territory) from the index alone (SQLite ignores it)
            models.Index(
                fields=["case_territory", "programming_year", "scheme", "state"],
                name="request_territory_year",
                include=["case_live"],
            ),
            models.Index(
                fields=["case_territory", "case"],
                name="request_territory_case",
                include=["case_live", "state"],
            ),
        ]

    def __str__(self):
        return f"{self.scheme.code} — {self.case}"

    def save(self, *args, **kwargs):
        from ..programming_year import year_refresh
        from ..request_copy import copy_on_save

        year_refresh(self)
        kwargs = copy_on_save(self, kwargs)
        fields = kwargs.get("update_fields")
        if fields and "programming_year" not in fields:
            kwargs["update_fields"] = [*fields, "programming_year"]
        super().save(*args, **kwargs)

    @logged
    @transition(field=state, source=RequestState.REQUESTED, target=RequestState.REQUESTED)
    def acknowledge(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RequestState.REQUESTED, target=RequestState.INSTRUCTING)
    def declare_complete(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RequestState.REQUESTED, target=RequestState.INSTRUCTING)
    def start_instruction(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=RequestState.INSTRUCTING,
        target=RequestState.AWAITING_COMMITTEE,
        conditions=[_needs_committee],
    )
    def submit_to_committee(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RequestState.AWAITING_COMMITTEE, target=RequestState.SELECTED)
    def select(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RequestState.AWAITING_COMMITTEE, target=RequestState.ADJOURNED)
    def adjourn(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RequestState.AWAITING_COMMITTEE, target=RequestState.REJECTED)
    def reject(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RequestState.ADJOURNED, target=RequestState.INSTRUCTING)
    def resume_instruction(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=RequestState.INSTRUCTING,
        target=RequestState.GRANTED,
        conditions=[_no_committee],
    )
    @transition(field=state, source=RequestState.SELECTED, target=RequestState.GRANTED)
    def grant(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=RequestState.INSTRUCTING,
        target=RequestState.REFUSED,
        conditions=[_no_committee],
    )
    @transition(field=state, source=RequestState.SELECTED, target=RequestState.REFUSED)
    def refuse(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RequestState.GRANTED, target=RequestState.COMMITTED)
    def commit(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=RequestState.COMMITTED, target=RequestState.PAYING)
    def start_paying(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state, source=[RequestState.COMMITTED, RequestState.PAYING], target=RequestState.PAID
    )
    def mark_paid(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=REQUEST_UNDECIDED, target=RequestState.WITHDRAWN)
    @transition(
        field=state,
        source=[RequestState.GRANTED, RequestState.COMMITTED],
        target=RequestState.WITHDRAWN,
    )
    def withdraw(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=LIVE_GRANTS, target=RequestState.LAPSED)
    def lapse(self, *, by=None, description=None, ctx=None):
        pass
