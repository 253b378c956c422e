"""Routes of the porteur pages (owned by that area's module), and the document download
shared by every area."""

from django.urls import path

from . import documents, porteur
from .porteur import extensions as porteur_extensions

urlpatterns = [
    path("mes-dossiers/", porteur.my_cases, name="my-cases"),
    path("mes-dossiers/<int:pk>/", porteur.case_porteur, name="case-porteur"),
    path("mes-dossiers/<int:pk>/message/", porteur.case_message, name="case-porteur-message"),
    path("mes-dossiers/<int:pk>/pieces/", porteur.case_document, name="case-porteur-document"),
    path("mes-dossiers/<int:pk>/action/", porteur.case_action, name="case-porteur-action"),
    path("mes-dossiers/<int:pk>/paiement/", porteur.case_claim, name="case-porteur-claim"),
    path(
        "mes-dossiers/<int:pk>/prorogation/",
        porteur_extensions.case_extension,
        name="case-porteur-extension",
    ),
    path("deposer/", porteur.intake_start, name="intake-start"),
    path("dossiers/<int:pk>/etapes/<slug:step>/", porteur.intake_step, name="intake-step"),
    path(
        "dossiers/<int:pk>/etapes/<slug:step>/brouillon/",
        porteur.intake_draft,
        name="intake-draft",
    ),
    path(
        "dossiers/<int:pk>/accuse-reception.pdf",
        porteur.acknowledgement,
        name="acknowledgement",
    ),
    path(
        "dossiers/<int:pk>/demandes/<int:request_pk>/accuse-reception.pdf",
        porteur.request_acknowledgement,
        name="request-acknowledgement",
    ),
    path("pieces/<int:pk>/telecharger/", documents.document_download, name="document-download"),
]
