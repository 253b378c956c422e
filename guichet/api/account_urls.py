"""Routes of account security and personal data (see ``account.py``)."""

from django.urls import path

from . import account

urlpatterns = [
    path("auth/token/revoke/", account.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("me/export/", account.MeExportView.as_view(), name="api-me-export"),
    path("audit/", account.AuditListView.as_view(), name="api-audit"),
]
