"""Routes of the funders pages (owned by that area's module)."""

from django.urls import path

from . import funders
from .agent import extensions

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
    # revised rules 5 and 6: extensions of the works deadlines, recovery orders
    path("dossiers/<int:pk>/prorogations/", extensions.case_extension, name="case-extension"),
    path(
        "prorogations/<int:pk>/transitions/<slug:name>/",
        extensions.extension_transition,
        name="extension-transition",
    ),
    path("demandes/<int:pk>/reversements/", extensions.request_recovery, name="request-recovery"),
    path(
        "reversements/<int:pk>/transitions/<slug:name>/",
        extensions.recovery_transition,
        name="recovery-transition",
    ),
]
