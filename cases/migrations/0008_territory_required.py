# Every EPCI, organisation, dossier and committee session now has its territory (0007):
# the column becomes required, and the dossier lists get indexes that lead with it, so a
# territory's pages cost what a single PETR's cost whatever the region's size.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_territory_data")]

    operations = [
        migrations.AlterField(
            model_name="epci",
            name="territory",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="epcis",
                to="cases.territory",
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="territory",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="organisations",
                to="cases.territory",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="territory",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="cases.territory",
            ),
        ),
        migrations.AlterField(
            model_name="committeesession",
            name="territory",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="committee_sessions",
                to="cases.territory",
            ),
        ),
        migrations.AddIndex(
            model_name="organisation",
            index=models.Index(fields=["territory", "name"], name="organisation_territory_idx"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["territory", "-created_at", "-id"], name="case_territory_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["territory", "state"], name="case_territory_state_idx"),
        ),
    ]
