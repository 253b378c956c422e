from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Dossiers"

    def ready(self):
        from . import lifecycle  # noqa: F401  (registers the state machines with the engine)
        from .ds import wiring  # noqa: F401  (Démarches Simplifiées: a hook and a periodic job)
        from .request_copy import connect

        connect()  # the dossier's territory and liveness copied onto its requests
