"""Routes of the API v1 (api.md). Ids are ``<int:pk>``: anything else is a 404."""

from django.urls import include, path

from . import (
    bulk,
    calls,
    cases,
    committee,
    documents,
    envelopes,
    extensions,
    payments,
    reference,
    treasury,
    users,
)
from . import notifications as n
from .company_register import CompanyLookupView

urlpatterns = [
    path("auth/token/", users.TokenView.as_view(), name="api-token"),
    path("me/", users.MeView.as_view(), name="api-me"),
    path("users/", users.UserCreateView.as_view(), name="api-users"),
    path("schemes/", reference.SchemeListView.as_view(), name="api-schemes"),
    path("communes/", reference.CommuneListView.as_view(), name="api-communes"),
    path("envelopes/", envelopes.EnvelopeListView.as_view(), name="api-envelopes"),
    path("calls/", calls.CallListView.as_view(), name="api-calls"),
    path("calls/<int:pk>/agenda/", calls.CallAgendaView.as_view(), name="api-call-agenda"),
    path("organisations/", reference.OrganisationListView.as_view(), name="api-organisations"),
    path("company-lookup/", CompanyLookupView.as_view(), name="api-company-lookup"),
    path(
        "organisations/<int:pk>/treasury/",
        treasury.OrganisationTreasuryView.as_view(),
        name="api-organisation-treasury",
    ),
    path("cases/", cases.CaseListView.as_view(), name="api-cases"),
    path("cases/<int:pk>/", cases.CaseDetailView.as_view(), name="api-case"),
    path(
        "cases/<int:pk>/transitions/<slug:name>/",
        cases.CaseTransitionView.as_view(),
        name="api-case-transition",
    ),
    path(
        "cases/<int:pk>/documents/",
        documents.CaseDocumentsView.as_view(),
        name="api-case-documents",
    ),
    path(
        "cases/<int:pk>/opinions/", documents.CaseOpinionsView.as_view(), name="api-case-opinions"
    ),
    path(
        "cases/<int:pk>/share-exception/",
        cases.CaseShareExceptionView.as_view(),
        name="api-case-share-exception",
    ),
    path(
        "cases/bulk/message/",
        bulk.CaseBulkMessageView.as_view(),
        name="api-cases-bulk-message",
    ),
    path(
        "funding-requests/bulk/<slug:name>/",
        bulk.FundingRequestBulkView.as_view(),
        name="api-funding-requests-bulk",
    ),
    path(
        "payment-claims/bulk/<slug:name>/",
        bulk.PaymentClaimBulkView.as_view(),
        name="api-payment-claims-bulk",
    ),
    path(
        "funding-requests/<int:pk>/",
        payments.FundingRequestDetailView.as_view(),
        name="api-funding-request",
    ),
    path(
        "funding-requests/<int:pk>/transitions/<slug:name>/",
        payments.FundingRequestTransitionView.as_view(),
        name="api-funding-request-transition",
    ),
    path(
        "funding-requests/<int:pk>/payment-claims/",
        payments.FundingRequestClaimsView.as_view(),
        name="api-funding-request-claims",
    ),
    path(
        "funding-requests/<int:pk>/extensions/",
        extensions.FundingRequestExtensionsView.as_view(),
        name="api-funding-request-extensions",
    ),
    path("extensions/<int:pk>/", extensions.ExtensionDetailView.as_view(), name="api-extension"),
    path(
        "extensions/<int:pk>/transitions/<slug:name>/",
        extensions.ExtensionTransitionView.as_view(),
        name="api-extension-transition",
    ),
    path(
        "funding-requests/<int:pk>/recovery-orders/",
        payments.FundingRequestRecoveryOrdersView.as_view(),
        name="api-funding-request-recovery-orders",
    ),
    path(
        "recovery-orders/<int:pk>/",
        payments.RecoveryOrderDetailView.as_view(),
        name="api-recovery-order",
    ),
    path(
        "recovery-orders/<int:pk>/transitions/<slug:name>/",
        payments.RecoveryOrderTransitionView.as_view(),
        name="api-recovery-order-transition",
    ),
    path("payment-claims/<int:pk>/", payments.PaymentClaimDetailView.as_view(), name="api-claim"),
    path(
        "payment-claims/<int:pk>/transitions/<slug:name>/",
        payments.PaymentClaimTransitionView.as_view(),
        name="api-claim-transition",
    ),
    path(
        "committee-sessions/",
        committee.CommitteeSessionListView.as_view(),
        name="api-committee-sessions",
    ),
    path(
        "committee-sessions/<int:pk>/",
        committee.CommitteeSessionDetailView.as_view(),
        name="api-committee-session",
    ),
    path(
        "committee-sessions/<int:pk>/votes/",
        committee.CommitteeVoteView.as_view(),
        name="api-committee-votes",
    ),
    path(
        "committee-sessions/<int:pk>/conflicts/",
        committee.CommitteeDeclarationView.as_view(),
        name="api-committee-conflicts",
    ),
    path(
        "committee-substitutes/",
        committee.CommitteeSubstituteListView.as_view(),
        name="api-committee-substitutes",
    ),
    path(
        "committee-sessions/<int:pk>/transitions/<slug:name>/",
        committee.CommitteeSessionTransitionView.as_view(),
        name="api-committee-session-transition",
    ),
    path("deadlines/", cases.DeadlineListView.as_view(), name="api-deadlines"),
    path("", include("guichet.api.account_urls")),
    # notifications, alerts, calendar
    path("notifications/", n.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/unread-count/",
        n.NotificationUnreadCountView.as_view(),
        name="notification-unread-count",
    ),
    path(
        "notifications/read-all/",
        n.NotificationReadAllView.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/", n.NotificationReadView.as_view(), name="notification-read"
    ),
    path("alerts/", n.AlertListView.as_view(), name="alert-list"),
    path(
        "alerts/<int:pk>/acknowledge/", n.AlertAcknowledgeView.as_view(), name="alert-acknowledge"
    ),
    path("me/calendar/", n.CalendarLinkView.as_view(), name="calendar-link"),
]

#: Outside ``/api/v1/``: the secret calendar feed a calendar application subscribes to.
feed_urlpatterns = [
    path("calendrier/<str:token>.ics", n.CalendarFeedView.as_view(), name="calendar-feed"),
]
