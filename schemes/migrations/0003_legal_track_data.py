"""Each scheme's own legal track (domain.md, revised rules 1-3, 5, 6, 8, 9, 11): the
parameters that were copied from the DETR defaults get each scheme's own value, with its
source; the legal cases of CGCT L1111-10 III are loaded as data."""

import datetime as dt
from decimal import Decimal as D

from django.db import migrations

NO_SOURCE = (
    "Délais : aucun texte national ; valeurs de départ à confirmer par la délibération "
    "cadre ou le règlement d'intervention du financeur."
)
STATE_TRACK = dict(
    desk_instructs=False,
    eligibility_from="receipt",
    completeness_months=3,
    deemed_complete=True,
    implicit_decision_months=2,
    implicit_decision_from="complete",
    works_start_months=24,
    works_start_from="grant",
    works_start_extension_months=12,
    completion_months=48,
    completion_from="start",
    completion_extension_months=24,
    balance_claim_months=None,
)
STATE_SOURCES = (
    "CGCT R2334-23 (complet à 3 mois), R2334-24 (pas de commencement avant la réception), "
    "R2334-27 (80 % d'aides publiques), R2334-28 (commencement 2 ans, +1 an une fois), "
    "R2334-29 (achèvement 4 ans, +2 ans ; demandes de paiement ensuite irrecevables) ; "
    "CRPA L231-4 et L114-5 (rejet implicite à 2 mois de la complétude)."
)
VALUES = {
    "DETR": dict(**STATE_TRACK, rate_min=D("0.20"), sources=STATE_SOURCES
                 + " Taux : fourchettes par catégorie de la commission départementale."),
    "DSIL": dict(**STATE_TRACK, rate_min=D("0"), sources=STATE_SOURCES
                 + " Taux : pas de minimum réglementaire."),
    "FONDS_VERT": dict(
        **{**STATE_TRACK, "completeness_months": None, "deemed_complete": False},
        rate_min=D("0"),
        sources="Décret 2018-514 (subventions de l'État aux projets d'investissement) : "
        "commencement 2 ans, achèvement 4 ans ; CRPA L231-4, L114-5 ; R2334-27 ne "
        "s'applique pas, le plafond de 80 % vient de l'article 10 du décret.",
    ),
    "LEADER": dict(
        desk_instructs=True,
        eligibility_from="receipt",
        completeness_months=3,
        deemed_complete=False,
        implicit_decision_months=2,
        implicit_decision_from="complete",
        works_start_extension_months=None,
        completion_extension_months=None,
        balance_claim_months=6,
        programme_end=dt.date(2029, 12, 31),
        sources="Convention GAL-Région-ASP : commencement 12 mois et fin d'opération "
        "24 mois après l'engagement, solde 6 mois après la fin, prorogations par avenant ; "
        "Règl. (UE) 2021/1060 art. 63 (dépenses payées au plus tard le 31/12/2029) ; "
        "complétude : objectif du GAL, pas de « réputé complet ».",
    ),
    "REGION_OCC": dict(
        desk_instructs=False,
        completeness_months=None,
        deemed_complete=False,
        implicit_decision_months=2,
        works_start_months=12,
        works_start_extension_months=None,
        completion_months=36,
        completion_extension_months=None,
        balance_claim_months=None,
        rate_min=D("0"),
        sources=NO_SOURCE + " Décision implicite : CRPA L231-4 (2 mois).",
    ),
    "DEPT_TARN": dict(
        desk_instructs=False,
        completeness_months=None,
        deemed_complete=False,
        implicit_decision_months=2,
        works_start_months=24,
        works_start_extension_months=None,
        completion_months=48,
        completion_extension_months=None,
        balance_claim_months=None,
        rate_min=D("0"),
        sources=NO_SOURCE + " Décision implicite : CRPA L231-4 (2 mois).",
    ),
}

LEGAL_CASES = [
    ("calamite_publique", "Réparation des dégâts causés par des calamités publiques",
     D("0"), "CGCT L1111-10 III (dérogation du préfet)"),
    ("patrimoine_protege", "Monument historique protégé (classé ou inscrit)",
     D("0"), "CGCT L1111-10 III (dérogation du préfet)"),
    ("renovation_energetique_ecoles", "Rénovation énergétique des bâtiments scolaires",
     D("0.10"), "CGCT L1111-10 III"),
    ("cooperation_feder", "Programme de coopération territoriale européenne (FEDER)",
     D("0.15"), "CGCT L1111-10 III"),
    ("outre_mer", "Collectivité d'outre-mer (opération d'investissement)",
     D("0.10"), "CGCT L1111-10 III"),
]


def forwards(apps, schema_editor):
    Funder = apps.get_model("schemes", "Funder")
    Scheme = apps.get_model("schemes", "Scheme")
    LegalCase = apps.get_model("schemes", "LegalCase")
    Funder.objects.filter(code="ETAT").update(is_state=True)
    for code, values in VALUES.items():
        Scheme.objects.filter(code=code).update(**values)
    for code, label, rate, source in LEGAL_CASES:
        LegalCase.objects.update_or_create(
            code=code, defaults={"label": label, "own_share_min": rate, "source": source}
        )


def backwards(apps, schema_editor):
    apps.get_model("schemes", "LegalCase").objects.filter(
        code__in=[c[0] for c in LEGAL_CASES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("schemes", "0002_legal_track_parameters")]
    operations = [migrations.RunPython(forwards, backwards)]
