# Today's data belongs to one territory: the PETR of the Albigeois and the Bastides.
# Every EPCI, organisation, dossier and committee session is attached to it, and so is
# every staff account that works for a territory (superusers stay installation-wide,
# porteurs and funder instructors have no territory).

from django.db import migrations

DEFAULT_TERRITORY = {
    "slug": "albigeois-bastides",
    "name": "Pôle territorial de l'Albigeois et des Bastides",
}
TERRITORIAL_ROLES = ["agent", "director", "admin", "epci_partner", "committee_member"]


def default_territory(apps):
    Territory = apps.get_model("cases", "Territory")
    territory, _ = Territory.objects.get_or_create(
        slug=DEFAULT_TERRITORY["slug"], defaults={"name": DEFAULT_TERRITORY["name"]}
    )
    return territory


def load(apps, schema_editor):
    territory = default_territory(apps)
    for name in ("EPCI", "Organisation", "Case", "CommitteeSession"):
        apps.get_model("cases", name).objects.filter(territory__isnull=True).update(
            territory=territory
        )
    apps.get_model("cases", "User").objects.filter(
        territory__isnull=True, is_superuser=False, role__in=TERRITORIAL_ROLES
    ).update(territory=territory)


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_territory")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
