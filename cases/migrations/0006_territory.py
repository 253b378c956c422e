# Territories (a PETR with its GAL): the model, and a nullable ``territory`` on the rows a
# user can reach. 0007 attaches today's data to the default territory, 0008 makes the
# column required and adds the indexes that lead with it.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import schemes.models  # _siren_digits moved there with Territory


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_case_list_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="Territory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("slug", models.SlugField(max_length=60, unique=True)),
                (
                    "siren",
                    models.CharField(
                        blank=True,
                        default="",
                        max_length=9,
                        validators=[schemes.models._siren_digits],
                    ),
                ),
                (
                    "reference_prefix",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text=(
                            "Pas encore utilisé : les références restent numérotées pour "
                            "l'installation."
                        ),
                        max_length=10,
                        verbose_name="préfixe des références",
                    ),
                ),
            ],
            options={"verbose_name": "territoire", "ordering": ["id"]},
        ),
        migrations.AddField(
            model_name="epci",
            name="territory",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="epcis",
                to="cases.territory",
            ),
        ),
        migrations.AddField(
            model_name="organisation",
            name="territory",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="organisations",
                to="cases.territory",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="territory",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="cases.territory",
            ),
        ),
        migrations.AddField(
            model_name="committeesession",
            name="territory",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="committee_sessions",
                to="cases.territory",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="territory",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="staff",
                to="cases.territory",
            ),
        ),
    ]
