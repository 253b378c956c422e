"""HTTP endpoints of notifications: in-app list, read marks, alerts, calendar feed.

The API lives in one app (``guichet.api``); ``notifications`` has no HTTP code of its own."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.alert_selectors import alert_list
from notifications.alerts import alert_acknowledge
from notifications.ical import calendar_for, feed_token_for, feed_token_rotate
from notifications.models import Alert, FeedToken, Notification
from notifications.selectors import notification_list, unread_count
from notifications.services import notification_mark_read, notifications_mark_all_read

from .serializers.fields import ErrorSerializer

LIST_LIMIT = 200
# Every error body is {"detail", "errors"?} (guichet.api.exceptions), documented as such.
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404)}


class NotificationSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "message",
            "subject",
            "subject_id",
            "aggregate_id",
            "created_at",
            "read_at",
        ]

    def get_subject(self, obj) -> str | None:
        return _subject_name(obj.subject_type_id)


class AlertSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "kind_label",
            "severity",
            "severity_label",
            "state",
            "subject",
            "subject_id",
            "case",
            "organisation",
            "territory",
            "message",
            "data",
            "created_at",
            "updated_at",
            "acknowledged_at",
            "resolved_at",
        ]

    def get_subject(self, obj) -> str:
        return _subject_name(obj.subject_type_id) or ""


_SUBJECTS = {
    "case": "case",
    "fundingrequest": "funding_request",
    "paymentclaim": "payment_claim",
    "organisation": "organisation",
    "deadline": "deadline",
    "actionsheet": "action_sheet",  # programme_at_risk: a LEADER action sheet
}


def _subject_name(type_id) -> str | None:
    if type_id is None:
        return None
    from django.contrib.contenttypes.models import ContentType

    model = ContentType.objects.get_for_id(type_id).model
    return _SUBJECTS.get(model, model)


class NotificationListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="Seulement les non lues")],
        responses={200: NotificationSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        qs = notification_list(
            user=request.user, unread=request.query_params.get("unread") in ("1", "true", "yes")
        )
        return Response(NotificationSerializer(qs[:LIST_LIMIT], many=True).data)


class NotificationUnreadCountView(APIView):
    @extend_schema(
        responses={
            200: inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}),
            **ERRORS,
        }
    )
    def get(self, request):
        return Response({"unread": unread_count(user=request.user)})


class NotificationReadView(APIView):
    @extend_schema(request=None, responses={200: NotificationSerializer, **ERRORS})
    def post(self, request, pk: int):
        notification = notification_mark_read(user=request.user, pk=pk)
        if notification is None:
            raise Http404
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("ReadAll", {"marked": serializers.IntegerField()}),
            **ERRORS,
        },
    )
    def post(self, request):
        marked = notifications_mark_all_read(user=request.user)
        return Response({"marked": marked})


class AlertListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("kind", str), OpenApiParameter("state", str)],
        responses={200: AlertSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        qs = alert_list(
            user=request.user,
            filters={k: request.query_params.get(k) for k in ("kind", "state")},
        ).select_related("subject_type")
        return Response(AlertSerializer(qs[:500], many=True).data)


class AlertAcknowledgeView(APIView):
    @extend_schema(request=None, responses={200: AlertSerializer, **ERRORS})
    def post(self, request, pk: int):
        alert = get_object_or_404(alert_list(user=request.user), pk=pk)
        alert = alert_acknowledge(actor=request.user, alert=alert)
        return Response(AlertSerializer(alert).data)


class CalendarLinkView(APIView):
    """The caller's secret calendar URL; POST makes a new one (the old link stops working)."""

    @extend_schema(
        responses={
            200: inline_serializer("CalendarLink", {"url": serializers.CharField()}),
            **ERRORS,
        }
    )
    def get(self, request):
        return Response({"url": self._url(request, feed_token_for(request.user))})

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("CalendarLinkNew", {"url": serializers.CharField()}),
            **ERRORS,
        },
    )
    def post(self, request):
        return Response({"url": self._url(request, feed_token_rotate(request.user))})

    @staticmethod
    def _url(request, token):
        return request.build_absolute_uri(f"/calendrier/{token.token}.ics")


@extend_schema(exclude=True)
class CalendarFeedView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request, token: str):
        feed = FeedToken.objects.select_related("user").filter(token=token).first()
        if feed is None or not feed.user.is_active:
            return HttpResponse(
                "Calendrier introuvable.", status=404, content_type="text/plain; charset=utf-8"
            )
        response = HttpResponse(
            calendar_for(feed.user), content_type="text/calendar; charset=utf-8"
        )
        response["Content-Disposition"] = 'inline; filename="guichet-echeances.ics"'
        response["Cache-Control"] = "private, max-age=300"
        return response
