"""The dossier's territory and liveness copied onto each funding request
(``cases.request_copy``), their index with the programming year, the scheme and the state
(the maquette's and the envelopes' filters without a join to the dossiers), and the copy of
the existing requests."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    from cases.request_copy import copies_fill

    copies_fill(apps.get_model("cases", "FundingRequest"), apps.get_model("cases", "Case"))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0030_porteur_list_index"),
        ("schemes", "0010_action_sheet_target"),
    ]

    operations = [
        migrations.AddField(
            model_name="fundingrequest",
            name="case_live",
            field=models.BooleanField(default=True, verbose_name="dossier en cours"),
        ),
        migrations.AddField(
            model_name="fundingrequest",
            name="case_territory",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="schemes.territory",
                verbose_name="territoire du dossier",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="fundingrequest",
            index=models.Index(
                fields=["case_territory", "programming_year", "scheme", "state"],
                name="request_territory_year",
            ),
        ),
    ]
