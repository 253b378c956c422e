from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Circuits"

    def ready(self):
        from . import hooks  # noqa: F401  (registers deadline planning with the engine)
        from .agent_tasks import connect

        connect()  # agent tasks kept in step with every transition (viewflow flows)
        from . import checks

        checks.connect()  # what the definitions and flows name, for manage.py check
        from . import lapse_tasks

        lapse_tasks.connect()  # after the sweep: the tasks of the works deadlines missed
