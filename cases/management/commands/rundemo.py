"""Serve the app for a demo, with the periodic jobs running in-process every minute.

``scripts/demo.sh`` migrates and loads the demo data first. In production, Celery beat
and a worker run the periodic jobs, and a WSGI server (gunicorn) serves the app.
"""

import logging
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections

from engine.periodic import run_all

log = logging.getLogger("guichet.rundemo")


def scheduler_loop(*, interval: float, stop: threading.Event, write) -> None:
    """Call every periodic job each ``interval`` seconds; log each pass; never die."""
    passes = 0
    while not stop.is_set():
        passes += 1
        started = time.monotonic()
        try:
            close_old_connections()
            report = run_all()
            summary = ", ".join(f"{name}={count}" for name, count in report.items())
            write(
                f"[planificateur] passage n° {passes} en {time.monotonic() - started:.1f} s : "
                f"{summary}"
            )
        except Exception as exc:  # survive anything: the next pass will retry
            log.exception("periodic pass %s failed", passes)
            write(f"[planificateur] passage n° {passes} en échec : {exc!r}")
        finally:
            connections.close_all()
        stop.wait(interval)


class Command(BaseCommand):
    help = "Sert l'application de démonstration et lance les tâches périodiques chaque minute."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="Port (défaut : $PORT ou 8000)")
        parser.add_argument("--host", default="0.0.0.0", help="Adresse d'écoute")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Secondes entre deux passages"
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="Ne pas lancer les tâches périodiques"
        )

    def handle(self, *args, port=None, host="0.0.0.0", interval=60.0, no_scheduler=False, **o):
        import os

        port = port or int(os.environ.get("PORT") or 8000)
        stop = threading.Event()
        if not no_scheduler:
            thread = threading.Thread(
                target=scheduler_loop,
                kwargs={"interval": interval, "stop": stop, "write": self._write},
                name="guichet-scheduler",
                daemon=True,
            )
            thread.start()
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        base = f"http://{shown}:{port}"
        for line in (
            "Guichet — démonstration",
            f"  Application        {base}{self._home()}",
            f"  Administration     {base}/admin/",
            f"  API (navigable)    {base}{self._first_routed('/api/v1/', '/api/v1/cases/')}",
            f"  Documentation API  {base}/api/docs/",
            "  Comptes : voir README.md (mot de passe de démonstration : bastides-2026)",
            f"  Tâches périodiques : toutes les {interval:g} s"
            + (" (désactivées)" if no_scheduler else ""),
        ):
            self.stdout.write(line)
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True)
        finally:
            stop.set()

    def _home(self) -> str:
        """The site's home page if one is routed, else the browsable API."""
        return self._first_routed("/", "/api/v1/", "/api/v1/cases/")

    @staticmethod
    def _first_routed(*paths: str) -> str:
        from django.urls import Resolver404, resolve

        for path in paths:
            try:
                resolve(path)
            except Resolver404:
                continue
            return path
        return paths[-1]

    def _write(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
