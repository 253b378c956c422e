"""Démarches Simplifiées (issue 15 point 2): the démarches whose dossiers Guichet imports,
one import row per DS dossier, one push row per state change sent back to DS.

The API token is never stored here: ``token_env`` names the environment variable that
holds it (one token per instructor group: each démarche names its own variable)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from schemes.models import Scheme

from .case import Case

#: The token's variable must be named so: an admin cannot make Guichet send another of the
#: server's secrets (SECRET_KEY, a storage key, a certificate's password) to DS as a token.
TOKEN_ENV_PREFIX = "DS_TOKEN_"
ENV_NAME = RegexValidator(
    r"^[A-Z][A-Z0-9_]{0,99}$",
    "Nom de variable d'environnement : majuscules, chiffres et « _ » (ex. DS_TOKEN_PETR).",
)
#: The keys of a démarche's mapping (``cases.ds.mapping`` reads them).
MAPPING_KEYS = {
    "title",
    "description",
    "organisation_kind",
    "tax_basis",
    "expenses",
    "resources",
    "documents",
}


class DsDemarche(models.Model):
    number = models.PositiveIntegerField("numéro de la démarche DS")
    groupe_instructeur = models.PositiveIntegerField(
        "numéro du groupe instructeur",
        null=True,
        blank=True,
        help_text="Vide : toute la démarche. Sinon, seuls les dossiers de ce groupe, lus avec "
        "le jeton d'un de ses instructeurs (un jeton par groupe instructeur).",
    )
    label = models.CharField("libellé", max_length=200, blank=True, default="")
    token_env = models.CharField(
        "variable d'environnement du jeton API",
        max_length=100,
        validators=[ENV_NAME],
        help_text="Le nom de la variable qui contient le jeton, jamais le jeton lui-même.",
    )
    instructeur_id = models.CharField(
        "identifiant DS de l'instructeur",
        max_length=200,
        help_text="L'instructeur au nom duquel Guichet change l'état des dossiers sur DS.",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="agent Guichet",
        help_text="L'agent au nom duquel les dossiers et leurs pièces sont créés.",
    )
    scheme = models.ForeignKey(
        Scheme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="dispositif",
        help_text="Le dispositif de la ligne « dispositif » du plan, dont la décision est "
        "renvoyée à DS (vide : la première décision d'un financeur).",
    )
    mapping = models.JSONField(
        "correspondance des champs",
        default=dict,
        blank=True,
        help_text="Champs DS (identifiant de descripteur ou libellé) → dossier Guichet : "
        "voir le README, « Démarches Simplifiées ».",
    )
    active = models.BooleanField("import périodique", default=True)
    push_back = models.BooleanField("renvoyer les décisions à DS", default=True)
    # The pass in progress: the cursor after the last page fully handled, and the filter
    # it pages through (``updatedSince``); empty cursor = no pass in progress.
    cursor = models.CharField(max_length=500, blank=True, default="", editable=False)
    pass_since = models.DateTimeField(null=True, blank=True, editable=False)
    pass_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Everything modified on DS before this instant is imported (no failure left).
    synced_at = models.DateTimeField("synchronisé jusqu'au", null=True, blank=True)
    last_run_at = models.DateTimeField("dernier import", null=True, blank=True)
    last_report = models.JSONField("dernier rapport", default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = "démarche Démarches Simplifiées"
        verbose_name_plural = "démarches Démarches Simplifiées"
        ordering = ["number", "groupe_instructeur"]
        constraints = [
            models.UniqueConstraint(
                fields=["number", "groupe_instructeur"], name="ds_demarche_group_unique"
            ),
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(groupe_instructeur=None),
                name="ds_demarche_whole_unique",
            ),
        ]

    def __str__(self):
        group = f" (groupe {self.groupe_instructeur})" if self.groupe_instructeur else ""
        return f"DS n° {self.number}{group}" + (f" — {self.label}" if self.label else "")

    def clean(self):
        errors = {}
        if self.agent_id and self.agent.role not in ("agent", "admin"):
            errors["agent"] = "Choisissez un agent du PETR : il crée les dossiers importés."
        if self.token_env and not self.token_env.startswith(TOKEN_ENV_PREFIX):
            errors["token_env"] = (
                f"Le nom de la variable du jeton commence par {TOKEN_ENV_PREFIX} "
                f"(ex. {TOKEN_ENV_PREFIX}PETR) : Guichet n'envoie à DS aucune autre variable."
            )
        if not isinstance(self.mapping, dict):
            errors["mapping"] = "La correspondance est un objet JSON { … }."
        elif unknown := sorted(set(self.mapping) - MAPPING_KEYS):
            errors["mapping"] = "Clés inconnues : " + ", ".join(unknown)[:200] + "."
        if errors:
            raise ValidationError(errors)


class DsImport(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", "Créé"
        UPDATED = "updated", "Mis à jour"
        SKIPPED = "skipped", "Ignoré"
        FAILED = "failed", "En échec"

    demarche = models.ForeignKey(DsDemarche, on_delete=models.CASCADE, related_name="imports")
    ds_number = models.PositiveIntegerField("numéro du dossier DS")
    ds_id = models.CharField("identifiant GraphQL", max_length=200, blank=True, default="")
    ds_state = models.CharField("état sur DS", max_length=30, blank=True, default="")
    ds_modified_at = models.CharField(max_length=40, blank=True, default="")
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ds_imports",
        verbose_name="dossier Guichet",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.FAILED)
    reason = models.TextField("motif", blank=True, default="")
    warnings = models.JSONField("avertissements", default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "import DS"
        verbose_name_plural = "imports DS"
        ordering = ["demarche", "ds_number"]
        constraints = [
            models.UniqueConstraint(fields=["demarche", "ds_number"], name="ds_import_unique")
        ]

    def __str__(self):
        return f"DS {self.demarche.number}/{self.ds_number} — {self.get_status_display()}"


class DsPush(models.Model):
    class Action(models.TextChoices):
        INSTRUCTION = "passer_en_instruction", "Passer en instruction"
        ACCEPT = "accepter", "Accepter"
        REFUSE = "refuser", "Refuser"

    class Status(models.TextChoices):
        PENDING = "pending", "À envoyer"
        DONE = "done", "Envoyé"
        SKIPPED = "skipped", "Sans objet"
        FAILED = "failed", "Abandonné"

    ds_import = models.ForeignKey(DsImport, on_delete=models.CASCADE, related_name="pushes")
    action = models.CharField(max_length=30, choices=Action)
    motivation = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "renvoi à DS"
        verbose_name_plural = "renvois à DS"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ds_import", "action"], name="ds_push_unique")
        ]
        indexes = [models.Index(fields=["status"], name="ds_push_status_idx")]

    def __str__(self):
        return f"{self.get_action_display()} — {self.ds_import}"
