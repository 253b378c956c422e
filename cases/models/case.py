"""The dossier: its states, and the transitions the engine applies to it.

State fields are protected: only ``engine.transitions.transition_apply`` changes them.
Transition methods are empty on purpose: guards and effects live in ``cases.lifecycle``
and run inside the engine's transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, transition

from engine.fsm import ConcurrentTransitionMixin
from schemes.models import EPCI, Commune, Territory

from .base import logged
from .organisations import Organisation


class CaseState(models.TextChoices):
    IDEA = "idea", "Idée de projet"
    SCOPING = "scoping", "Accompagnement amont"
    DRAFT = "draft", "En préparation"
    SUBMITTED = "submitted", "Déposé"
    INCOMPLETE = "incomplete", "Incomplet"
    INSTRUCTION = "instruction", "En instruction"
    DECIDED = "decided", "Décidé"
    IN_PROGRESS = "in_progress", "En réalisation"
    COMPLETED = "completed", "Achevé"
    CLOSED = "closed", "Soldé"
    REJECTED = "rejected", "Refusé"
    WITHDRAWN = "withdrawn", "Abandonné"
    LAPSED = "lapsed", "Caduc"


CASE_TERMINAL = {CaseState.CLOSED, CaseState.REJECTED, CaseState.WITHDRAWN, CaseState.LAPSED}
CASE_LIVE = [s for s in CaseState.values if s not in CASE_TERMINAL]
CASE_EDITABLE = [CaseState.IDEA, CaseState.SCOPING, CaseState.DRAFT, CaseState.INCOMPLETE]
#: The start of works may be recorded from the deposit on (revised rule 4, R2334-24).
WORKS_MAY_START = [
    CaseState.SUBMITTED,
    CaseState.INCOMPLETE,
    CaseState.INSTRUCTION,
    CaseState.DECIDED,
]
#: Before the deposit the plan may break its rules (they bind from ``submit`` on).
PLAN_FREE_STATES = [CaseState.IDEA, CaseState.SCOPING, CaseState.DRAFT]


class Case(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(
        max_length=20, unique=True, null=True, blank=True, verbose_name="référence"
    )
    title = models.CharField(max_length=300, verbose_name="titre")
    description = models.TextField(blank=True, default="")
    # The theme (issue 12, point 6). ``theme_ref`` is the controlled list's entry
    # (``Theme``), the one the observatory groups by. During the transition the text column
    # ``theme`` stays, always holding the label of ``theme_ref`` (written only by
    # ``cases.services.themes``, also on a rename in the admin): the overlap signal's
    # index, the filters, the exports and the API's ``theme`` field read it unchanged.
    # It can be dropped once those read ``theme_ref``.
    theme = models.CharField("thème (libellé)", max_length=120, blank=True, default="")
    theme_ref = models.ForeignKey(
        "cases.Theme",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name="thème",
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name="organisation porteuse",
    )
    epci = models.ForeignKey(
        EPCI, on_delete=models.PROTECT, null=True, related_name="cases", verbose_name="EPCI"
    )
    # Denormalised, set at creation (see ``save``), never edited through the services.
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="cases",
        editable=False,
        verbose_name="territoire",
    )
    communes = models.ManyToManyField(Commune, related_name="cases", blank=True)
    referent_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referent_cases",
    )
    state = FSMField(
        default=CaseState.IDEA, choices=CaseState.choices, protected=True, verbose_name="état"
    )
    receipt_date = models.DateField("date de réception", null=True, blank=True)
    complete_on = models.DateField("date de complétude", null=True, blank=True)
    works_start_date = models.DateField(null=True, blank=True)
    works_end_date = models.DateField(null=True, blank=True)
    # What the porteur plans (the treasury forecast spreads the expenses between them).
    planned_works_start = models.DateField("début prévu des travaux", null=True, blank=True)
    planned_works_end = models.DateField("fin prévue des travaux", null=True, blank=True)
    missing_documents = models.JSONField(default=list, blank=True)
    documents_requested_at = models.DateTimeField(null=True, blank=True)
    # The state documents were requested in (``submitted`` or ``instruction``):
    # ``provide_documents`` returns to it.
    documents_requested_from = models.CharField(max_length=20, blank=True, default="")
    # Revised rule 8: an exception names its legal case, which lowers the own-share floor.
    own_share_case = models.ForeignKey(
        "schemes.LegalCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="dérogation à la participation minimale (cas légal)",
    )
    own_share_exception_reason = models.TextField(blank=True, default="")
    # The call for projects the dossier answers (issue 14 point 5), if any.
    call = models.ForeignKey(
        "schemes.Call",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name="appel à projets",
    )
    # Revised rule 10: the whole plan is HT or TTC; its lines agree with it.
    tax_basis = models.CharField(
        "base du plan", max_length=3, choices=[("HT", "HT"), ("TTC", "TTC")], default="HT"
    )
    withdraw_reason = models.TextField(blank=True, default="")
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "dossier"
        verbose_name_plural = "dossiers"
        ordering = ["-created_at", "-id"]
        # Every list reads newest first (``-created_at, -id``) and stops at its page:
        # each filter the lists offer has an index in that order, so that PostgreSQL
        # walks only the matching dossiers (issue 16; bench/list_plans.py). They replace
        # (state), (epci, state) and (territory, state), their prefixes.
        indexes = [
            models.Index(fields=["state", "-created_at", "-id"], name="case_state_created_idx"),
            models.Index(
                fields=["epci", "state", "-created_at", "-id"], name="case_epci_state_created_idx"
            ),
            models.Index(fields=["-created_at", "-id"], name="case_created_idx"),
            # a porteur's list (a commune files hundreds of dossiers over the years)
            models.Index(
                fields=["organisation", "-created_at", "-id"], name="case_org_created_idx"
            ),
            models.Index(
                fields=["territory", "-created_at", "-id"], name="case_territory_created_idx"
            ),
            models.Index(
                fields=["territory", "state", "-created_at", "-id"],
                name="case_terr_state_created_idx",
            ),
            # the overlap signal of the dossier page (cases/overlap.py): same theme, in
            # any case, newest first, within the territory
            models.Index(
                "territory",
                Upper("theme"),
                F("created_at").desc(),
                F("id").desc(),
                name="case_theme_created_idx",
            ),
        ]

    def __str__(self):
        return f"{self.reference or self.pk} — {self.title}"

    @property
    def own_share_exception(self) -> bool:
        return self.own_share_case_id is not None

    def save(self, *args, **kwargs):
        if self.territory_id is None:
            self.territory_id = self.resolve_territory_id()
        super().save(*args, **kwargs)

    def resolve_territory_id(self) -> int | None:
        """The territory of its EPCI, else of its organisation, else of the creating staff
        user, else the installation's only territory."""
        if self.organisation_id and self.organisation.epci_id == self.epci_id:
            return self.organisation.territory_id  # no query: the usual case
        if self.epci_id:
            return EPCI.objects.values_list("territory_id", flat=True).get(pk=self.epci_id)
        if self.organisation_id:
            return self.organisation.territory_id
        if self.created_by_id and self.created_by.territory_id:
            return self.created_by.territory_id
        return Territory.sole_id()

    @property
    def is_terminal(self) -> bool:
        return self.state in CASE_TERMINAL

    # --- transitions (see cases.lifecycle for roles, guards and effects)
    @logged
    @transition(field=state, source=CaseState.IDEA, target=CaseState.SCOPING)
    def start_scoping(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=[CaseState.IDEA, CaseState.SCOPING], target=CaseState.DRAFT)
    def open_application(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=CaseState.DRAFT, target=CaseState.SUBMITTED)
    def submit(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=[CaseState.SUBMITTED, CaseState.INSTRUCTION],
        target=CaseState.INCOMPLETE,
    )
    def request_documents(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=CaseState.INCOMPLETE,
        target=RETURN_VALUE(CaseState.SUBMITTED, CaseState.INSTRUCTION),
    )
    def provide_documents(self, *, by=None, description=None, ctx=None):
        back = self.documents_requested_from
        return CaseState.INSTRUCTION if back == CaseState.INSTRUCTION else CaseState.SUBMITTED

    @logged
    @transition(field=state, source=CaseState.SUBMITTED, target=CaseState.INSTRUCTION)
    def declare_complete(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=CaseState.INSTRUCTION,
        target=RETURN_VALUE(CaseState.DECIDED, CaseState.REJECTED),
    )
    def record_decisions(self, *, by=None, description=None, ctx=None):
        return ctx.data["target"]

    @logged
    @transition(field=state, source=WORKS_MAY_START, target=CaseState.IN_PROGRESS)
    def start_works(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=CaseState.IN_PROGRESS, target=CaseState.COMPLETED)
    def complete_works(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state, source=[CaseState.IN_PROGRESS, CaseState.COMPLETED], target=CaseState.REJECTED
    )
    def reject(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=CaseState.COMPLETED, target=CaseState.CLOSED)
    def close(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(field=state, source=CASE_LIVE, target=CaseState.WITHDRAWN)
    def withdraw(self, *, by=None, description=None, ctx=None):
        pass

    @logged
    @transition(
        field=state,
        source=[CaseState.DECIDED, CaseState.IN_PROGRESS, CaseState.COMPLETED],
        target=CaseState.LAPSED,
    )
    def lapse(self, *, by=None, description=None, ctx=None):
        pass
