from django.urls import path

from . import api

api_urlpatterns = [
    path("notifications/", api.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/unread-count/",
        api.NotificationUnreadCountView.as_view(),
        name="notification-unread-count",
    ),
    path(
        "notifications/read-all/",
        api.NotificationReadAllView.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/", api.NotificationReadView.as_view(), name="notification-read"
    ),
    path("alerts/", api.AlertListView.as_view(), name="alert-list"),
    path(
        "alerts/<int:pk>/acknowledge/", api.AlertAcknowledgeView.as_view(), name="alert-acknowledge"
    ),
    path("me/calendar/", api.CalendarLinkView.as_view(), name="calendar-link"),
]

feed_urlpatterns = [
    path("calendrier/<str:token>.ics", api.CalendarFeedView.as_view(), name="calendar-feed"),
]
