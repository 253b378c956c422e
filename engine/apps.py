from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "engine"
    verbose_name = "Moteur (transitions, échéances, journal)"

    def ready(self):
        from . import checks  # noqa: F401  (registers the descriptors' system check)
        from .history import history_connect

        history_connect()  # the history rows, written in batches by the engine
