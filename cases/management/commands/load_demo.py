"""Load the demo data (idempotent: does nothing if it is already loaded)."""

import time

from django.core.management.base import BaseCommand

from cases.demo import load_demo


class Command(BaseCommand):
    help = (
        "Charge les données de démonstration : comptes par rôle, organisations des 72 "
        "opérations DETR/DSIL 2019 du territoire, dossiers à toutes les étapes, comité LEADER. "
        "Sans effet si elles sont déjà chargées."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        report = load_demo()
        for line in report.lines():
            self.stdout.write(line)
        if not report.skipped:
            self.stdout.write(
                self.style.SUCCESS(f"Démo chargée en {time.monotonic() - started:.1f} s.")
            )
