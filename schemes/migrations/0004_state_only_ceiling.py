"""Revised rule 8: the 80 % ceiling on total public aid is a rule of the State schemes
(CGCT R2334-27; décret 2018-514 art. 10 for the Fonds vert), applied when one of them is
requested. LEADER, the Région and the Département impose none of their own: their
``public_aid_ceiling`` becomes empty (« ce dispositif n'impose pas de plafond »).

Also an inactive legal case for the own-share exceptions recorded before the list of
legal cases existed (a free reason, no case named): ``cases.0015_plan_rules`` names it on
those dossiers whose reason names none of the listed cases, so that an agent requalifies
them; it cannot be chosen for a new exception."""

from decimal import Decimal

from django.db import migrations

NO_CEILING = ["LEADER", "REGION_OCC", "DEPT_TARN"]
UNQUALIFIED = "derogation_a_requalifier"


def forwards(apps, schema_editor):
    Scheme = apps.get_model("schemes", "Scheme")
    LegalCase = apps.get_model("schemes", "LegalCase")
    Scheme.objects.filter(funder__is_state=False).update(public_aid_ceiling=None)
    LegalCase.objects.get_or_create(
        code=UNQUALIFIED,
        defaults={
            "label": "Dérogation enregistrée avant la liste des cas légaux (à requalifier)",
            "own_share_min": Decimal("0"),
            "source": "Motif libre enregistré par l'agent ; cas légal à préciser",
            "active": False,
        },
    )


def backwards(apps, schema_editor):
    Scheme = apps.get_model("schemes", "Scheme")
    Scheme.objects.filter(code__in=NO_CEILING, public_aid_ceiling=None).update(
        public_aid_ceiling=Decimal("0.80")
    )


class Migration(migrations.Migration):
    dependencies = [("schemes", "0003_legal_track_data")]
    operations = [migrations.RunPython(forwards, backwards)]
