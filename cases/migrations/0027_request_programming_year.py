"""The programming year stored on each funding request (``cases.programming_year``), its
index with the scheme and the state, and the year of the existing requests."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from cases.programming_year import years_fill

    years_fill(apps.get_model("cases", "FundingRequest"), apps.get_model("cases", "Case"))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0026_programming_drafts"),
    ]

    operations = [
        migrations.AddField(
            model_name="fundingrequest",
            name="programming_year",
            field=models.PositiveSmallIntegerField(
                null=True, verbose_name="année de programmation"
            ),
        ),
        migrations.AddIndex(
            model_name="fundingrequest",
            index=models.Index(
                fields=["programming_year", "scheme", "state"], name="request_year_scheme_state"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
