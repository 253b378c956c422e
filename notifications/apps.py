from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications, rappels et alertes"

    def ready(self):
        from . import wiring  # noqa: F401  (periodic jobs and the outbox kick)
