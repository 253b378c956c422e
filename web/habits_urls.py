"""Routes of the Démarches Simplifiées habits (issue 12): message attachments, correction
requests, « Mes notifications »."""

from django.urls import path

from . import corrections, messages, notifications

urlpatterns = [
    path(
        "pieces-jointes/<int:pk>/telecharger/",
        messages.attachment_download,
        name="message-attachment",
    ),
    path("dossiers/<int:pk>/corrections/", corrections.correction_create, name="correction-create"),
    path(
        "dossiers/<int:pk>/corrections/<int:cid>/fermer/",
        corrections.correction_close,
        name="correction-close",
    ),
    path(
        "mes-dossiers/<int:pk>/corrections/<int:cid>/",
        corrections.correction_apply,
        name="correction-apply",
    ),
    path("notifications/", notifications.notification_page, name="notifications"),
    path(
        "notifications/tout-lu/",
        notifications.notification_read_all,
        name="notifications-read-all",
    ),
    path("notifications/<int:pk>/lue/", notifications.notification_read, name="notification-read"),
]
