"""Routes of the funders pages (owned by that area's module)."""

from django.urls import path

from . import funders

urlpatterns = [
    path("financeurs/", funders.funders, name="funders"),
    path(
        "demandes/<int:pk>/transitions/<slug:name>/",
        funders.request_transition,
        name="request-transition",
    ),
    path(
        "paiements/<int:pk>/transitions/<slug:name>/",
        funders.claim_transition,
        name="claim-transition",
    ),
]
