"""Dossiers, organisations, financing plans, funding requests, payments, documents, committee.

State fields are protected: only ``engine.transitions.transition_apply`` changes them.
Transition methods are empty on purpose: guards and effects live in ``cases.lifecycle``
and run inside the engine's transaction.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from schemes.models import EPCI, Commune, Funder, Scheme, Territory

from .siren import siren_valid

ZERO = Decimal("0.00")


def money_field(verbose_name="", **kwargs):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


#: The largest amount a money column holds: 12 digits before the comma, 2 after.
MONEY_MAX = Decimal("999999999999.99")


def money_bounds(prefix: str, *fields: str) -> list[models.CheckConstraint]:
    """The bound of ``money_field`` checked by the database itself. PostgreSQL's
    numeric(14, 2) refuses a larger amount, SQLite stores any number — and a row that
    cannot be read back as money breaks every list showing it: the same bound on both."""
    return [
        models.CheckConstraint(
            condition=models.Q(**{f"{name}__gte": -MONEY_MAX, f"{name}__lte": MONEY_MAX})
            | models.Q(**{f"{name}__isnull": True}),
            name=f"{prefix}_{name}_bounded",
        )
        for name in fields
    ]


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMMUNE = "commune", "Commune"
        EPCI = "epci", "EPCI"
        ASSOCIATION = "association", "Association"
        COMPANY = "company", "Entreprise"
        PUBLIC_BODY = "public_body", "Autre organisme public"

    PUBLIC_KINDS = {Kind.COMMUNE, Kind.EPCI, Kind.PUBLIC_BODY}

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind)
    siren = models.CharField(max_length=9, unique=True, null=True, blank=True)
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="organisations"
    )
    epci = models.ForeignKey(
        EPCI, on_delete=models.PROTECT, null=True, blank=True, related_name="organisations"
    )
    # Denormalised from the EPCI (or the creating staff user's territory): set at creation.
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="organisations", editable=False
    )
    cash_limit = money_field("seuil de trésorerie déclaré", null=True, blank=True)
    money_needed_by = models.DateField("fonds nécessaires avant le", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["territory", "name"], name="organisation_territory_idx")]

    def __str__(self):
        return self.name

    @property
    def is_public(self) -> bool:
        return self.kind in self.PUBLIC_KINDS

    def clean(self):
        if self.siren and not siren_valid(self.siren):
            raise ValidationError({"siren": "SIREN invalide : 9 chiffres et clé de Luhn."})

    def save(self, *args, **kwargs):
        if self.commune_id and not self.epci_id:
            self.epci_id = Commune.objects.values_list("epci_id", flat=True).get(pk=self.commune_id)
        if self.territory_id is None:
            # From its EPCI; otherwise the caller sets it (the creating agent's territory);
            # an installation with one territory needs nothing.
            if self.epci_id:
                self.territory_id = EPCI.objects.values_list("territory_id", flat=True).get(
                    pk=self.epci_id
                )
            else:
                self.territory_id = Territory.sole_id()
        super().save(*args, **kwargs)


class User(AbstractUser):
    class Role(models.TextChoices):
        PORTEUR = "porteur", "Porteur de projet"
        AGENT = "agent", "Agent du PETR"
        EPCI_PARTNER = "epci_partner", "Partenaire EPCI"
        COMMITTEE_MEMBER = "committee_member", "Membre du comité LEADER"
        FUNDER_INSTRUCTOR = "funder_instructor", "Instructeur d'un financeur"
        DIRECTOR = "director", "Direction du PETR"
        ADMIN = "admin", "Administrateur"

    class College(models.TextChoices):
        PUBLIC = "public", "Collège public"
        PRIVATE = "private", "Collège privé"

    role = models.CharField(max_length=20, choices=Role, default=Role.PORTEUR)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    epci = models.ForeignKey(EPCI, on_delete=models.PROTECT, null=True, blank=True)
    # The territory a staff user works for (agent, director, non-superuser admin, EPCI
    # partner, committee member). Porteurs are scoped by their organisation, funder
    # instructors by their funder (cross-territory on purpose), superusers see everything.
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, null=True, blank=True)
    college = models.CharField(max_length=10, choices=College, blank=True, default="")
    interest_group = models.CharField(max_length=80, blank=True, default="")
    phone = models.CharField(max_length=30, blank=True, default="")

    @property
    def effective_role(self) -> str:
        return self.Role.ADMIN if self.is_superuser else self.role

    @property
    def works_for_territory(self) -> bool:
        """A staff account bound to one territory (see ``territory``)."""
        return not self.is_superuser and self.role in TERRITORIAL_ROLES

    def save(self, *args, **kwargs):
        if self.is_superuser:
            self.role = self.Role.ADMIN
        if self.college == self.College.PUBLIC and not self.interest_group:
            self.interest_group = "autorités publiques"
        if (
            self.territory_id is None
            and self.works_for_territory
            and kwargs.get("update_fields") is None
        ):
            # An EPCI partner works for its EPCI's territory; otherwise, with a single
            # territory in the installation, that one. Staff left without a territory see
            # nothing (cases.selectors).
            if self.epci_id:
                self.territory_id = EPCI.objects.values_list("territory_id", flat=True).get(
                    pk=self.epci_id
                )
            else:
                self.territory_id = Territory.sole_id()
        super().save(*args, **kwargs)


TERRITORIAL_ROLES = {
    User.Role.AGENT,
    User.Role.DIRECTOR,
    User.Role.ADMIN,
    User.Role.EPCI_PARTNER,
    User.Role.COMMITTEE_MEMBER,
}


# ---------------------------------------------------------------- dossier


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
#: Before the deposit the plan may break its rules (they bind from ``submit`` on).
PLAN_FREE_STATES = [CaseState.IDEA, CaseState.SCOPING, CaseState.DRAFT]


def _log(func):
    return fsm_log_by(fsm_log_description(func))


class Case(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(max_length=20, unique=True, null=True, blank=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    theme = models.CharField(max_length=120, blank=True, default="")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cases")
    epci = models.ForeignKey(EPCI, on_delete=models.PROTECT, null=True, related_name="cases")
    # Denormalised, set at creation (see ``save``), never edited through the services.
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="cases", editable=False
    )
    communes = models.ManyToManyField(Commune, related_name="cases", blank=True)
    referent_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referent_cases",
    )
    state = FSMField(default=CaseState.IDEA, choices=CaseState.choices, protected=True)
    receipt_date = models.DateField("date de réception", null=True, blank=True)
    complete_on = models.DateField("date de complétude", null=True, blank=True)
    works_start_date = models.DateField(null=True, blank=True)
    works_end_date = models.DateField(null=True, blank=True)
    missing_documents = models.JSONField(default=list, blank=True)
    documents_requested_at = models.DateTimeField(null=True, blank=True)
    own_share_exception = models.BooleanField(
        "dérogation à la participation minimale de 20 %", default=False
    )
    own_share_exception_reason = models.TextField(blank=True, default="")
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
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state"]),
            models.Index(fields=["epci", "state"]),
            models.Index(fields=["-created_at", "-id"], name="case_created_idx"),
            models.Index(
                fields=["territory", "-created_at", "-id"], name="case_territory_created_idx"
            ),
            models.Index(fields=["territory", "state"], name="case_territory_state_idx"),
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
    @_log
    @transition(field=state, source=CaseState.IDEA, target=CaseState.SCOPING)
    def start_scoping(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=[CaseState.IDEA, CaseState.SCOPING], target=CaseState.DRAFT)
    def open_application(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=CaseState.DRAFT, target=CaseState.SUBMITTED)
    def submit(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state,
        source=[CaseState.SUBMITTED, CaseState.INSTRUCTION],
        target=CaseState.INCOMPLETE,
    )
    def request_documents(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=CaseState.INCOMPLETE, target=CaseState.SUBMITTED)
    def provide_documents(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=CaseState.SUBMITTED, target=CaseState.INSTRUCTION)
    def declare_complete(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state,
        source=CaseState.INSTRUCTION,
        target=RETURN_VALUE(CaseState.DECIDED, CaseState.REJECTED),
    )
    def record_decisions(self, *, by=None, description=None, ctx=None):
        return ctx.data["target"]

    @_log
    @transition(field=state, source=CaseState.DECIDED, target=CaseState.IN_PROGRESS)
    def start_works(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=CaseState.IN_PROGRESS, target=CaseState.COMPLETED)
    def complete_works(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=CaseState.COMPLETED, target=CaseState.CLOSED)
    def close(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=CASE_LIVE, target=CaseState.WITHDRAWN)
    def withdraw(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=CaseState.DECIDED, target=CaseState.LAPSED)
    def lapse(self, *, by=None, description=None, ctx=None):
        pass


class ExpenseLine(models.Model):
    class Tax(models.TextChoices):
        HT = "HT", "HT"
        TTC = "TTC", "TTC"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="expenses")
    position = models.PositiveIntegerField(default=0)
    label = models.CharField(max_length=200)
    amount = money_field()
    tax = models.CharField(max_length=3, choices=Tax, default=Tax.HT)
    eligible = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = money_bounds("expense", "amount")


class ResourceLine(models.Model):
    class Kind(models.TextChoices):
        SCHEME = "scheme", "Dispositif"
        SELF = "self", "Autofinancement"
        OTHER_PUBLIC = "other_public", "Autre financement public"
        OTHER = "other", "Autre financement privé"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="resources")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind)
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, null=True, blank=True)
    label = models.CharField(max_length=200, blank=True, default="")
    amount = money_field()

    class Meta:
        ordering = ["position", "id"]
        constraints = money_bounds("resource", "amount")


# ---------------------------------------------------------------- funding requests


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
REQUEST_TERMINAL = [
    RequestState.REJECTED,
    RequestState.REFUSED,
    RequestState.PAID,
    RequestState.WITHDRAWN,
    RequestState.LAPSED,
]


def _needs_committee(fr) -> bool:
    return fr.scheme.committee


def _no_committee(fr) -> bool:
    return not fr.scheme.committee


class FundingRequest(ConcurrentTransitionMixin, models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="funding_requests")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="requests")
    state = FSMField(default=RequestState.REQUESTED, choices=RequestState.choices, protected=True)
    amount_requested = money_field()
    amount_granted = money_field(null=True, blank=True)
    amount_paid = money_field(default=ZERO)
    granted_on = models.DateField("date de notification", null=True, blank=True)
    committed_on = models.DateField(null=True, blank=True)
    motivation = models.TextField(blank=True, default="")
    pre_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "demande de financement"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "scheme"], name="one_request_per_scheme"),
            *money_bounds("request", "amount_requested", "amount_granted", "amount_paid"),
        ]
        indexes = [models.Index(fields=["scheme", "state"])]

    def __str__(self):
        return f"{self.scheme.code} — {self.case}"

    @_log
    @transition(field=state, source=RequestState.REQUESTED, target=RequestState.INSTRUCTING)
    def start_instruction(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state,
        source=RequestState.INSTRUCTING,
        target=RequestState.AWAITING_COMMITTEE,
        conditions=[_needs_committee],
    )
    def submit_to_committee(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=RequestState.AWAITING_COMMITTEE, target=RequestState.SELECTED)
    def select(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=RequestState.AWAITING_COMMITTEE, target=RequestState.ADJOURNED)
    def adjourn(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=RequestState.AWAITING_COMMITTEE, target=RequestState.REJECTED)
    def reject(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=RequestState.ADJOURNED, target=RequestState.INSTRUCTING)
    def resume_instruction(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state,
        source=RequestState.INSTRUCTING,
        target=RequestState.GRANTED,
        conditions=[_no_committee],
    )
    @transition(field=state, source=RequestState.SELECTED, target=RequestState.GRANTED)
    def grant(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state,
        source=RequestState.INSTRUCTING,
        target=RequestState.REFUSED,
        conditions=[_no_committee],
    )
    @transition(field=state, source=RequestState.SELECTED, target=RequestState.REFUSED)
    def refuse(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=RequestState.GRANTED, target=RequestState.COMMITTED)
    def commit(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=RequestState.COMMITTED, target=RequestState.PAYING)
    def start_paying(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state, source=[RequestState.COMMITTED, RequestState.PAYING], target=RequestState.PAID
    )
    def mark_paid(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=REQUEST_UNDECIDED, target=RequestState.WITHDRAWN)
    @transition(
        field=state,
        source=[RequestState.GRANTED, RequestState.COMMITTED],
        target=RequestState.WITHDRAWN,
    )
    def withdraw(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state,
        source=[RequestState.GRANTED, RequestState.COMMITTED],
        target=RequestState.LAPSED,
    )
    def lapse(self, *, by=None, description=None, ctx=None):
        pass


# ---------------------------------------------------------------- payments


class ClaimState(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    FILED = "filed", "Déposée"
    AWAITING_COFINANCERS = "awaiting_cofinancers", "En attente des cofinanceurs"
    VERIFIED = "verified", "Service fait contrôlé"
    PAID = "paid", "Payée"
    REJECTED = "rejected", "Rejetée"
    WITHDRAWN = "withdrawn", "Retirée"


CLAIM_UNPAID = [ClaimState.FILED, ClaimState.AWAITING_COFINANCERS, ClaimState.VERIFIED]


class PaymentClaim(ConcurrentTransitionMixin, models.Model):
    class Kind(models.TextChoices):
        ADVANCE = "advance", "Avance"
        INSTALLMENT = "installment", "Acompte"
        BALANCE = "balance", "Solde"

    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.CASCADE, related_name="claims"
    )
    kind = models.CharField(max_length=12, choices=Kind)
    amount = money_field("montant demandé")
    filed_on = models.DateField(null=True, blank=True)
    state = FSMField(default=ClaimState.DRAFT, choices=ClaimState.choices, protected=True)
    verified_on = models.DateField(null=True, blank=True)
    awaiting_since = models.DateField(null=True, blank=True)
    paid_amount = money_field(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    motivation = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "demande de paiement"
        ordering = ["id"]
        indexes = [models.Index(fields=["state", "filed_on"])]
        constraints = money_bounds("claim", "amount", "paid_amount")

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} € — {self.funding_request}"

    @_log
    @transition(field=state, source=ClaimState.DRAFT, target=ClaimState.FILED)
    def file(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state,
        source=ClaimState.FILED,
        target=RETURN_VALUE(ClaimState.VERIFIED, ClaimState.AWAITING_COFINANCERS),
    )
    def verify(self, *, by=None, description=None, ctx=None):
        return ctx.data["target"]

    @_log
    @transition(field=state, source=ClaimState.AWAITING_COFINANCERS, target=ClaimState.VERIFIED)
    def release(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(field=state, source=ClaimState.VERIFIED, target=ClaimState.PAID)
    def pay(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state,
        source=[ClaimState.FILED, ClaimState.AWAITING_COFINANCERS, ClaimState.VERIFIED],
        target=ClaimState.REJECTED,
    )
    def reject(self, *, by=None, description=None, ctx=None):
        pass

    @_log
    @transition(
        field=state, source=[ClaimState.DRAFT, ClaimState.FILED], target=ClaimState.WITHDRAWN
    )
    def withdraw(self, *, by=None, description=None, ctx=None):
        pass


class Payment(models.Model):
    claim = models.ForeignKey(PaymentClaim, on_delete=models.PROTECT, related_name="payments")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    paid_on = models.DateField()
    delay_days = models.IntegerField("délai depuis la demande (jours)")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "paiement"
        ordering = ["-paid_on", "-id"]
        indexes = [models.Index(fields=["scheme", "-paid_on"])]
        constraints = money_bounds("payment", "amount")


# ---------------------------------------------------------------- documents and opinions


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


# ---------------------------------------------------------------- LEADER committee


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

    @_log
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


# ---------------------------------------------------------------- messages and notes


class Message(models.Model):
    """A message between the porteur and the PETR on a dossier, or an internal note that
    porteurs never see (``internal=True``)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    internal = models.BooleanField("note interne (invisible du porteur)", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "internal", "created_at"])]

    def __str__(self):
        return f"{self.author} — {self.created_at:%d/%m/%Y}"
