"""Reference data below the dossiers: funders and schemes with their parameters (data,
editable in the admin: code reads these, never constants), and the territory — the PETR
(``Territory``, the unit of tenancy), its EPCI and communes.

The tables keep the names they had in ``workflows`` and ``cases`` before this app existed
(``Meta.db_table``): the models moved, the rows did not.
"""

# size: the territory's reference data and its programming (funders, schemes, territories, EPCI, communes, envelopes, action sheets, calls) are one app's models, read together by every layer
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from .identifiers import validate_siret

# ---------------------------------------------------------------- funders and schemes


class Funder(models.Model):
    code = models.CharField(max_length=20, unique=True, verbose_name="code")
    name = models.CharField(max_length=120, verbose_name="nom")
    is_state = models.BooleanField(
        "financeur de l'État",
        default=False,
        help_text="Les dispositifs de l'État portent le plafond de 80 % d'aides publiques "
        "(CGCT R2334-27).",
    )
    siret = models.CharField(
        "SIRET",
        max_length=14,
        blank=True,
        default="",
        validators=[validate_siret],
        help_text="14 chiffres, sans espace : l'identifiant de l'attribuant (idAttribuant) des "
        "données ouvertes des subventions. Vide s'il n'est pas connu.",
    )

    class Meta:
        verbose_name = "financeur"
        verbose_name_plural = "financeurs"
        db_table = "workflows_funder"
        ordering = ["name"]

    def __str__(self):
        return self.name


def default_reminder_offsets():
    return [30, 7, 1, 0]


def default_grid():
    return []


class Scheme(models.Model):
    class FlowKind(models.TextChoices):
        STANDARD = "standard", "Standard"
        LEADER = "leader", "LEADER (comité de programmation)"

    class StartFrom(models.TextChoices):
        GRANT = "grant", "Notification de la décision"
        COMMIT = "commit", "Signature de la convention"

    class EligibilityFrom(models.TextChoices):
        RECEIPT = "receipt", "Réception de la demande par le financeur"
        FILING = "filing", "Dépôt au guichet"

    class ImplicitFrom(models.TextChoices):
        COMPLETE = "complete", "Complétude de la demande"
        RECEIPT = "receipt", "Réception de la demande"

    code = models.CharField(max_length=20, unique=True, verbose_name="code")
    name = models.CharField(max_length=160, verbose_name="nom")
    short_name = models.CharField(
        "nom court",
        max_length=40,
        blank=True,
        default="",
        help_text="Ce que lisent les porteurs (« DETR », « Région Occitanie ») ; le code sinon.",
    )
    funder = models.ForeignKey(
        Funder, on_delete=models.PROTECT, related_name="schemes", verbose_name="financeur"
    )
    flow_kind = models.CharField(
        max_length=20, choices=FlowKind, default=FlowKind.STANDARD, verbose_name="type de circuit"
    )
    committee = models.BooleanField("passe en comité LEADER", default=False)
    is_feader = models.BooleanField("fonds européen (FEADER)", default=False)
    active = models.BooleanField(default=True, verbose_name="actif")
    description = models.TextField(blank=True, default="")
    sources = models.TextField(
        "sources des paramètres",
        blank=True,
        default="",
        help_text="D'où viennent les délais et taux de ce dispositif (texte, délibération, "
        "convention), ou « aucune » : valeur de départ à confirmer par le financeur.",
    )

    # Financing-plan parameters
    rate_min = models.DecimalField(
        "taux minimal",
        max_digits=5,
        decimal_places=4,
        default=0,
        help_text="DETR : fourchette fixée par catégorie par la commission départementale ; "
        "DSIL, Fonds vert, Région, Département : pas de taux minimal réglementaire (0). "
        "Les taux sont comparés à 0,01 % près, arrondis au plus proche.",
    )
    rate_max = models.DecimalField("taux maximal", max_digits=5, decimal_places=4, default=1)
    public_aid_ceiling = models.DecimalField(
        "plafond d'aides publiques (part du coût éligible)",
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        default=Decimal("0.80"),
        help_text="Appliqué quand un dispositif de l'État est sollicité : 80 % (CGCT R2334-27). "
        "Vide : ce dispositif n'impose pas de plafond.",
    )
    min_amount = models.DecimalField(
        "aide minimale (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    national_match_ratio = models.DecimalField(
        "FEADER ≤ n × contreparties publiques nationales",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    envelope = models.DecimalField(
        "enveloppe (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    required_documents = models.JSONField(
        "pièces obligatoires", default=list, blank=True, help_text='[{"code": …, "label": …}]'
    )

    # Each funder's legal track (domain.md, revised rules 1-3)
    desk_instructs = models.BooleanField(
        "instruit par le guichet",
        default=False,
        help_text="Le PETR/GAL instruit lui-même (LEADER) : la réception au guichet vaut "
        "réception par le financeur, sans accusé de réception séparé.",
    )
    eligibility_from = models.CharField(
        "début d'éligibilité des dépenses",
        max_length=10,
        choices=EligibilityFrom,
        default=EligibilityFrom.RECEIPT,
        help_text="Par défaut la réception de la demande par le financeur "
        "(CGCT R2334-24 pour la DETR et la DSIL : pas de commencement avant).",
    )

    # Deadlines (months unless stated)
    completeness_months = models.PositiveSmallIntegerField(
        "délai de complétude (mois après la réception)",
        null=True,
        blank=True,
        default=3,
        help_text="DETR/DSIL : 3 mois (CGCT R2334-23). Vide : pas de délai.",
    )
    deemed_complete = models.BooleanField(
        "réputé complet à l'échéance",
        default=False,
        help_text="À la fin du délai de complétude, sans demande de pièces, la demande est "
        "réputée complète (DETR/DSIL, CGCT R2334-23). Aucun autre dispositif par défaut.",
    )
    documents_days = models.PositiveSmallIntegerField(
        "délai de production des pièces (jours)", default=30
    )
    implicit_decision_months = models.PositiveSmallIntegerField(
        "décision implicite (mois)",
        null=True,
        blank=True,
        default=2,
        help_text="Silence gardé deux mois : rejet (CRPA L231-4 3°, demandes à caractère "
        "financier). Vide : pas de décision implicite suivie.",
    )
    implicit_decision_from = models.CharField(
        "décision implicite à compter de",
        max_length=10,
        choices=ImplicitFrom,
        default=ImplicitFrom.COMPLETE,
        help_text="Par défaut la complétude de la demande (CRPA L114-5).",
    )
    works_start_months = models.PositiveSmallIntegerField(
        "commencement des travaux (mois)",
        default=24,
        help_text="DETR/DSIL : 2 ans après la notification (CGCT R2334-28) ; LEADER : "
        "selon la convention (12 mois par défaut).",
    )
    works_start_from = models.CharField(max_length=10, choices=StartFrom, default=StartFrom.GRANT)
    works_start_extension_months = models.PositiveSmallIntegerField(
        "prorogation du commencement (mois, une fois)",
        null=True,
        blank=True,
        default=12,
        help_text="DETR/DSIL : un an, une seule fois, demandée avant l'échéance "
        "(CGCT R2334-28). Vide : pas de limite réglementaire (LEADER : par avenant).",
    )
    completion_extension_months = models.PositiveSmallIntegerField(
        "prorogation de l'achèvement (mois au plus)",
        null=True,
        blank=True,
        default=24,
        help_text="DETR/DSIL : deux ans au plus (CGCT R2334-29). Vide : pas de limite "
        "réglementaire (LEADER : par avenant).",
    )
    completion_months = models.PositiveSmallIntegerField(
        "achèvement (mois après le début ou la convention)",
        default=48,
        help_text="DETR/DSIL : 4 ans après le commencement déclaré (CGCT R2334-29) ; "
        "LEADER : fin d'opération selon la convention.",
    )
    completion_from = models.CharField(
        max_length=10,
        choices=[("start", "Début des travaux"), ("commit", "Signature de la convention")],
        default="start",
    )
    balance_claim_months = models.PositiveSmallIntegerField(
        "demande de solde (mois après l'achèvement)",
        null=True,
        blank=True,
        default=6,
        help_text="LEADER : selon la convention (6 mois par défaut). Vide : pas de délai "
        "distinct (DETR/DSIL : la demande suit l'achèvement, CGCT R2334-29).",
    )
    programme_end = models.DateField(
        "fin d'éligibilité des dépenses du programme",
        null=True,
        blank=True,
        help_text="FEADER 2023-2027 : dépenses payées au plus tard le 31/12/2029 "
        "(Règl. (UE) 2021/1060, art. 63).",
    )
    reminder_offsets = models.JSONField(
        "rappels (jours avant l'échéance)", default=default_reminder_offsets
    )

    # Payments
    advance_max_rate = models.DecimalField(
        "avance maximale", max_digits=5, decimal_places=4, null=True, blank=True
    )
    installments_max_rate = models.DecimalField(
        "avance + acomptes avant le solde", max_digits=5, decimal_places=4, default=Decimal("0.80")
    )
    balance_requires_completion = models.BooleanField(default=True)
    expected_payment_delay_days = models.PositiveSmallIntegerField(default=60)

    # LEADER committee
    grid = models.JSONField(
        "grille de sélection",
        default=default_grid,
        blank=True,
        help_text='[{"code": …, "label": …, "max": points}]',
    )
    grid_min_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    quorum_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.50"))
    max_group_share = models.DecimalField(
        "part maximale d'un groupe d'intérêt",
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.49"),
    )

    class Meta:
        verbose_name = "dispositif"
        verbose_name_plural = "dispositifs"
        db_table = "workflows_scheme"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"

    @property
    def label(self) -> str:
        """The scheme as people read it: its short name, else its code (issue 12 point 6:
        no internal code such as « REGION_OCC » shown to a porteur)."""
        return self.short_name or self.code

    def clean(self):
        if self.rate_min > self.rate_max:
            raise ValidationError("Le taux minimal dépasse le taux maximal.")
        for doc in self.required_documents or []:
            if not isinstance(doc, dict) or not doc.get("code") or not doc.get("label"):
                raise ValidationError("Chaque pièce doit avoir un « code » et un « label ».")

    @property
    def grid_max_score(self) -> Decimal:
        return sum((Decimal(str(c.get("max", 0))) for c in self.grid or []), Decimal(0))

    def required_document_codes(self) -> list[str]:
        return [d["code"] for d in self.required_documents or []]


class LegalCase(models.Model):
    """A legal case in which a project owner's minimum own share is lower than the
    general 20 % (CGCT L1111-10 III): data, edited in the admin. An exception recorded on
    a dossier names one and lowers the floor to its rate (revised rule 8)."""

    code = models.SlugField(max_length=40, unique=True, verbose_name="code")
    label = models.CharField("cas", max_length=200)
    own_share_min = models.DecimalField(
        "participation minimale du maître d'ouvrage",
        max_digits=5,
        decimal_places=4,
        help_text="Part du total des financements publics (0,10 = 10 %).",
    )
    source = models.CharField("texte", max_length=200)
    active = models.BooleanField(default=True, verbose_name="actif")

    class Meta:
        verbose_name = "cas de dérogation (participation minimale)"
        verbose_name_plural = "cas de dérogation (participation minimale)"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(own_share_min__gte=0, own_share_min__lte=Decimal("0.20")),
                name="legal_case_own_share_between_0_and_20",
            )
        ]

    def __str__(self):
        return self.label


# ---------------------------------------------------------------- territory


def _siren_digits(value):
    if value and not (len(value) == 9 and value.isdigit()):
        raise ValidationError("SIREN : 9 chiffres.")


# A reference ``GU-<prefix>-<year>-<pk>`` must fit ``Case.reference`` (20 characters) up to
# the dossier n° 999 999: hence at most 5 characters of prefix.
REFERENCE_PREFIX_RE = r"^[A-Z0-9]{2,5}$"
_reference_prefix_valid = RegexValidator(
    REFERENCE_PREFIX_RE,
    "Le préfixe des références compte 2 à 5 lettres majuscules sans accent ou chiffres "
    "(par exemple ALB).",
)
NAMES_CACHE_KEY = "guichet:territory-names:v1"
NAMES_CACHE_SECONDS = 300


class Territory(models.Model):
    """A PETR (with its GAL): the unit of tenancy. Every dossier, organisation, committee
    session and staff account belongs to one; staff see only their territory's rows
    (``cases.selectors``)."""

    name = models.CharField(max_length=200, verbose_name="nom")
    slug = models.SlugField(
        max_length=60, unique=True, verbose_name="identifiant court (adresse web)"
    )
    siren = models.CharField(
        max_length=9, blank=True, default="", validators=[_siren_digits], verbose_name="SIREN"
    )
    reference_prefix = models.CharField(
        "préfixe des références",
        max_length=10,  # 5 by the validator; the column is left as it was
        blank=True,
        default="",
        validators=[_reference_prefix_valid],
        help_text=(
            "Vide : références GU-2026-00042. Renseigné (par exemple ALB) : "
            "GU-ALB-2026-00042 pour les nouveaux dossiers du territoire."
        ),
    )

    class Meta:
        verbose_name = "territoire"
        verbose_name_plural = "territoires"
        db_table = "cases_territory"
        ordering = ["id"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Territory.forget_names()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        Territory.forget_names()
        return result

    @classmethod
    def sole_id(cls) -> int | None:
        """The territory's id when the installation has exactly one, else None."""
        ids = list(cls.objects.values_list("pk", flat=True)[:2])
        return ids[0] if len(ids) == 1 else None

    # -------------------------------------------------------------- names, cached

    @classmethod
    def names(cls, *, fresh: bool = False) -> dict[int, str]:
        """``{id: name}`` of every territory, in id order: a few rows, kept in the cache for
        a few minutes (and dropped when a territory is saved) so that a page or an e-mail
        does not pay a query for its territory's name."""
        from django.core.cache import cache

        names = None if fresh else cache.get(NAMES_CACHE_KEY)
        if names is None:
            names = dict(cls.objects.order_by("pk").values_list("pk", "name"))
            cache.set(NAMES_CACHE_KEY, names, NAMES_CACHE_SECONDS)
        return names

    @classmethod
    def forget_names(cls) -> None:
        """Drop the cached names now and again at commit (a reader in between may have
        cached rows not yet committed)."""
        from django.core.cache import cache
        from django.db import transaction

        cache.delete(NAMES_CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(NAMES_CACHE_KEY))

    @classmethod
    def name_of(cls, territory_id: int | None) -> str:
        """The name of this territory; with none given (or an unknown one), the
        installation's first territory's name ("" when there is no territory at all)."""
        names = cls.names()
        if territory_id is not None and territory_id not in names:
            names = cls.names(fresh=True)  # created since the cache was filled
        if territory_id in names:
            return names[territory_id]
        return next(iter(names.values()), "")

    # -------------------------------------------------------------- references

    @staticmethod
    def format_reference(prefix: str, year: int, number: int, *, digits: int = 5) -> str:
        """A dossier's reference: ``GU-2026-00042``, or ``GU-ALB-2026-00042`` with a
        prefix."""
        head = f"GU-{prefix}-" if prefix else "GU-"
        return f"{head}{year}-{number:0{digits}d}"

    @classmethod
    def prefix_of(cls, territory_id: int | None) -> str:
        """The reference prefix of this territory, read from the database (not the cache:
        a reference is written once)."""
        if territory_id is None:
            return ""
        return (
            cls.objects.filter(pk=territory_id).values_list("reference_prefix", flat=True).first()
            or ""
        )


class EPCI(models.Model):
    siren = models.CharField(max_length=9, unique=True, verbose_name="SIREN")
    name = models.CharField(max_length=160, verbose_name="nom")
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="epcis", verbose_name="territoire"
    )

    class Meta:
        db_table = "cases_epci"
        verbose_name = "EPCI"
        verbose_name_plural = "EPCI"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.territory_id is None:
            self.territory_id = Territory.sole_id()
        super().save(*args, **kwargs)


class Commune(models.Model):
    insee = models.CharField(max_length=5, unique=True, verbose_name="code INSEE")
    name = models.CharField(max_length=160, verbose_name="nom")
    population = models.PositiveIntegerField(verbose_name="population")
    epci = models.ForeignKey(
        EPCI, on_delete=models.PROTECT, related_name="communes", verbose_name="EPCI"
    )

    class Meta:
        verbose_name = "commune"
        verbose_name_plural = "communes"
        db_table = "cases_commune"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.insee})"


# ---------------------------------------------------------------- programming (issue 14)


class ActionSheet(models.Model):
    """A « fiche-action » of the GAL's LEADER strategy (2023-2027): LEADER envelopes and
    requests are counted per action sheet."""

    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="action_sheets", verbose_name="dispositif"
    )
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="action_sheets",
        verbose_name="territoire",
    )
    code = models.CharField("numéro", max_length=20)
    title = models.CharField("intitulé", max_length=200)
    active = models.BooleanField("active", default=True)
    target_amount = models.DecimalField(
        "maquette (montant à programmer sur le programme)",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Le montant de la fiche-action dans la maquette du GAL, à programmer puis "
        "à payer avant la fin du programme. Vide : la somme de ses enveloppes annuelles.",
    )

    class Meta:
        verbose_name = "fiche-action"
        verbose_name_plural = "fiches-actions"
        ordering = ["territory", "scheme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "scheme", "code"], name="action_sheet_unique_code"
            ),
            models.CheckConstraint(
                condition=models.Q(target_amount__isnull=True)
                | models.Q(target_amount__gte=0, target_amount__lte=Decimal("999999999999.99")),
                name="action_sheet_target_bounded",
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.title}"


class Envelope(models.Model):
    """What a scheme may grant on a territory in a year (for LEADER: per action sheet, over
    the programme). Its figures — requested, programmed, committed, paid, remaining — are
    computed from the dossiers (``cases.envelopes``), never typed."""

    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="envelopes", verbose_name="dispositif"
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="envelopes", verbose_name="territoire"
    )
    year = models.PositiveSmallIntegerField("année")
    action_sheet = models.ForeignKey(
        ActionSheet,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="envelopes",
        verbose_name="fiche-action",
    )
    amount = models.DecimalField("montant", max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = "enveloppe"
        verbose_name_plural = "enveloppes"
        ordering = ["year", "scheme", "territory", "action_sheet"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "territory", "year"],
                condition=models.Q(action_sheet__isnull=True),
                name="envelope_unique_scheme_year",
            ),
            models.UniqueConstraint(
                fields=["scheme", "territory", "year", "action_sheet"],
                condition=models.Q(action_sheet__isnull=False),
                name="envelope_unique_action_sheet_year",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0, amount__lte=Decimal("999999999999.99")),
                name="envelope_amount_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(year__gte=2000, year__lte=2100), name="envelope_year_bounded"
            ),
        ]

    def __str__(self):
        sheet = f" — {self.action_sheet.code}" if self.action_sheet_id else ""
        return f"{self.scheme.code} {self.year}{sheet} : {self.amount} €"


class Call(models.Model):
    """A call for projects (appel à projets, issue 14 point 5): a scheme's selection between
    an opening and a closing date, with its criteria and, optionally, its budget. A dossier
    naming a call may only be deposited inside that window (``cases.calls``)."""

    class Selection(models.TextChoices):
        ROLLING = "rolling", "Au fil de l'eau"
        RANKING = "ranking", "Classement des projets à la clôture"

    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="calls", verbose_name="dispositif"
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="calls", verbose_name="territoire"
    )
    title = models.CharField("intitulé", max_length=200)
    description = models.TextField("présentation et critères", blank=True, default="")
    opens_on = models.DateField("ouverture")
    closes_on = models.DateField("clôture")
    envelope = models.DecimalField(
        "budget de l'appel", max_digits=14, decimal_places=2, null=True, blank=True
    )
    selection = models.CharField(
        "mode de sélection", max_length=10, choices=Selection, default=Selection.RANKING
    )
    active = models.BooleanField("publié", default=True)

    class Meta:
        verbose_name = "appel à projets"
        verbose_name_plural = "appels à projets"
        ordering = ["closes_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")),
                name="call_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=models.Q(envelope__isnull=True)
                | models.Q(envelope__gte=0, envelope__lte=Decimal("999999999999.99")),
                name="call_envelope_bounded",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.opens_on:%d/%m/%Y} – {self.closes_on:%d/%m/%Y})"
