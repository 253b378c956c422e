"""``manage.py ds_import <numéro de démarche>``: import a Démarches Simplifiées démarche's
dossiers now (the periodic job does the same), and print the report."""

from django.core.management.base import BaseCommand, CommandError

from cases.models import DsDemarche
from cases.tasks import demarche_import_locked


class Command(BaseCommand):
    help = "Importe les dossiers d'une démarche Démarches Simplifiées et affiche le rapport."

    def add_arguments(self, parser):
        parser.add_argument("demarche", type=int, help="numéro de la démarche sur DS")
        parser.add_argument(
            "--details", action="store_true", help="une ligne par dossier importé ou non"
        )

    def handle(self, *args, demarche: int, details: bool = False, **options):
        found = DsDemarche.objects.select_related("agent", "scheme").filter(number=demarche)
        if not found.exists():
            raise CommandError(
                f"Démarche DS n° {demarche} inconnue : déclarez-la d'abord dans "
                "l'administration (Démarches Simplifiées)."
            )
        failed = False
        for each in found:  # the whole démarche, or each of its instructor groups
            report = demarche_import_locked(each)
            if report is None:
                self.stderr.write(f"{each} : un import est déjà en cours.")
                failed = True
                continue
            if details:
                for line in report.lines:
                    case = f" → {line['case']}" if line["case"] else ""
                    reason = f" : {line['reason']}" if line["reason"] else ""
                    self.stdout.write(f"  n° {line['number']} {line['status']}{case}{reason}")
            self.stdout.write(report.summary())
            failed = failed or bool(report.error)
        if failed:
            raise CommandError("Import interrompu : relancez la commande pour reprendre.")
