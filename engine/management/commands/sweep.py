from django.core.management.base import BaseCommand

from engine.periodic import run_all


class Command(BaseCommand):
    help = "Un passage synchrone de tout ce qui est périodique (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Date du jour simulée (AAAA-MM-JJ)")

    def handle(self, *args, date=None, **options):
        import datetime as dt

        today = dt.date.fromisoformat(date) if date else None
        report = run_all(today=today, inline=True)
        for name, count in report.items():
            self.stdout.write(f"{name}: {count}")
        if any(count < 0 for count in report.values()):
            raise SystemExit(1)
