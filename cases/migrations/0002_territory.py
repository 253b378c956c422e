import csv
from pathlib import Path

from django.db import migrations

# The file moved with the territory to the ``schemes`` app (schemes/data/).
DATA = Path(__file__).resolve().parents[2] / "schemes" / "data" / "territory_communes.csv"


def load(apps, schema_editor):
    EPCI = apps.get_model("cases", "EPCI")
    Commune = apps.get_model("cases", "Commune")
    defaults = {}
    if any(f.name == "territory" for f in EPCI._meta.get_fields()):
        # Run with today's models (the tests reload reference data after a flush): the
        # EPCI belong to the default territory of 0007.
        import importlib

        data = importlib.import_module("cases.migrations.0007_territory_data")
        defaults["territory"] = data.default_territory(apps)
    with DATA.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            epci, _ = EPCI.objects.get_or_create(
                siren=row["siren_epci"], defaults={"name": row["nom_epci"], **defaults}
            )
            Commune.objects.update_or_create(
                insee=row["code_insee"],
                defaults={"name": row["nom_commune"], "population": int(row["population"]),
                          "epci": epci},
            )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
