"""Issue 11, revised rules 8 and 10 (docs/adr/009-per-funder-legal-track.md): the plan rules.

- ``Case.own_share_case``: an own-share exception names its legal case (``schemes.LegalCase``)
  instead of a yes/no. Existing exceptions are carried over: their free reason is kept, and
  the case is the one the reason names (école + énergie, calamité, monument / patrimoine,
  coopération / FEDER, outre-mer); a reason that names none gets the inactive case
  « à requalifier » (0 %, as the old exception switched the check off), which the agent's
  page asks to requalify.
- ``Case.tax_basis``: HT or TTC for the whole plan; a plan whose lines are all TTC is TTC,
  any other HT (a mixed plan then shows its TTC lines as breaking rule 10).
- ``Organisation.kind``: départements and régions, bound like communes and EPCI by the 20 %
  own share of CGCT L1111-10 III.
"""

import django.db.models.deletion
from django.db import migrations, models

UNQUALIFIED = "derogation_a_requalifier"
#: (legal case, words of the reason that name it: all of one group must appear)
KEYWORDS = [
    ("renovation_energetique_ecoles", [("école", "énerg"), ("scolaire", "énerg")]),
    ("calamite_publique", [("calamit",), ("catastrophe",), ("intempér",), ("inondation",)]),
    ("patrimoine_protege", [("monument",), ("patrimoine",), ("classé",), ("inscrit",)]),
    ("cooperation_feder", [("coopération",), ("feder",), ("interreg",)]),
    ("outre_mer", [("outre-mer",), ("outre mer",)]),
]


def legal_case_code(reason: str) -> str:
    text = (reason or "").lower()
    for code, groups in KEYWORDS:
        if any(all(word in text for word in group) for group in groups):
            return code
    return UNQUALIFIED


def forwards(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    ExpenseLine = apps.get_model("cases", "ExpenseLine")
    LegalCase = apps.get_model("schemes", "LegalCase")
    cases = {c.code: c for c in LegalCase.objects.all()}
    for case in Case.objects.filter(own_share_exception=True).only(
        "pk", "own_share_exception_reason"
    ):
        code = legal_case_code(case.own_share_exception_reason)
        found = cases.get(code) or cases.get(UNQUALIFIED)
        Case.objects.filter(pk=case.pk).update(own_share_case=found)
    ttc = set(ExpenseLine.objects.filter(tax="TTC").values_list("case_id", flat=True).distinct())
    ttc -= set(ExpenseLine.objects.filter(tax="HT").values_list("case_id", flat=True).distinct())
    ids = sorted(ttc)
    for start in range(0, len(ids), 1000):
        Case.objects.filter(pk__in=ids[start : start + 1000]).update(tax_basis="TTC")


def backwards(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Case.objects.filter(own_share_case__isnull=False).update(own_share_exception=True)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0014_deadlines_extensions"),
        ("schemes", "0004_state_only_ceiling"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="own_share_case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="schemes.legalcase",
                verbose_name="dérogation à la participation minimale (cas légal)",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="tax_basis",
            field=models.CharField(
                choices=[("HT", "HT"), ("TTC", "TTC")],
                default="HT",
                max_length=3,
                verbose_name="base du plan",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="case", name="own_share_exception"),
        migrations.AlterField(
            model_name="organisation",
            name="kind",
            field=models.CharField(
                choices=[
                    ("commune", "Commune"),
                    ("epci", "EPCI"),
                    ("association", "Association"),
                    ("company", "Entreprise"),
                    ("public_body", "Autre organisme public"),
                    ("departement", "Département"),
                    ("region", "Région"),
                ],
                max_length=20,
            ),
        ),
    ]
