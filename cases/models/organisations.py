"""Organisations (the porteurs' bodies) and user accounts with their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from schemes.models import EPCI, Commune, Funder, Territory

from ..siren import siren_valid
from .base import money_field


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMMUNE = "commune", "Commune"
        EPCI = "epci", "EPCI"
        ASSOCIATION = "association", "Association"
        COMPANY = "company", "Entreprise"
        PUBLIC_BODY = "public_body", "Autre organisme public"
        DEPARTEMENT = "departement", "Département"
        REGION = "region", "Région"

    PUBLIC_KINDS = {Kind.COMMUNE, Kind.EPCI, Kind.PUBLIC_BODY, Kind.DEPARTEMENT, Kind.REGION}

    name = models.CharField(max_length=200, verbose_name="nom")
    kind = models.CharField(max_length=20, choices=Kind, verbose_name="type")
    siren = models.CharField(max_length=9, unique=True, null=True, blank=True, verbose_name="SIREN")
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name="commune",
    )
    epci = models.ForeignKey(
        EPCI, on_delete=models.PROTECT, null=True, blank=True, related_name="organisations"
    )
    # Denormalised from the EPCI (or the creating staff user's territory): set at creation.
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="organisations",
        editable=False,
        verbose_name="territoire",
    )
    cash_limit = money_field("seuil de trésorerie déclaré", null=True, blank=True)
    money_needed_by = models.DateField("fonds nécessaires avant le", null=True, blank=True)
    # The treasury forecast (issue 13): the cash the organisation declares it holds today,
    # and its FCTVA regime (the year the refund comes: N, N+1 or N+2 after the expense).
    cash_at_hand = money_field("trésorerie disponible déclarée", null=True, blank=True)
    cash_at_hand_on = models.DateField("trésorerie déclarée le", null=True, blank=True)
    fctva_regime = models.PositiveSmallIntegerField(
        "régime FCTVA",
        choices=[(0, "Année N"), (1, "Année N+1"), (2, "Année N+2")],
        default=2,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
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

    role = models.CharField(max_length=20, choices=Role, default=Role.PORTEUR, verbose_name="rôle")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="organisation",
    )
    epci = models.ForeignKey(EPCI, on_delete=models.PROTECT, null=True, blank=True)
    # The territory a staff user works for (agent, director, non-superuser admin, EPCI
    # partner, committee member). Porteurs are scoped by their organisation, funder
    # instructors by their funder (cross-territory on purpose), superusers see everything.
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="territoire",
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
