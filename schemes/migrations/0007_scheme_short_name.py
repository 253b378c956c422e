"""The schemes' short names, what porteurs read instead of internal codes (issue 12)."""

from django.db import migrations, models

SHORT_NAMES = {
    "DETR": "DETR",
    "DSIL": "DSIL",
    "FONDS_VERT": "Fonds vert",
    "LEADER": "LEADER",
    "REGION_OCC": "Région Occitanie",
    "DEPT_TARN": "Département du Tarn",
}


def forwards(apps, schema_editor):
    Scheme = apps.get_model("schemes", "Scheme")
    for code, short_name in SHORT_NAMES.items():
        Scheme.objects.filter(code=code, short_name="").update(short_name=short_name)


class Migration(migrations.Migration):
    dependencies = [("schemes", "0006_funder_siret")]

    operations = [
        migrations.AddField(
            model_name="scheme",
            name="short_name",
            field=models.CharField(
                blank=True,
                default="",
                help_text="Ce que lisent les porteurs (« DETR », « Région Occitanie ») ; le code sinon.",
                max_length=40,
                verbose_name="nom court",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
