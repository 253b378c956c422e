"""Routes of issue 12's dossier additions: the outside experts (the agent's invitation,
and the expert's one-time link, no login: the token is the only key) and the dossier's PDFs
(the whole dossier, the decision of each decided request)."""

from django.urls import path

from . import dossier_pdf, experts
from .agent import experts as agent_experts

urlpatterns = [
    path(
        "dossiers/<int:pk>/experts/inviter/",
        agent_experts.case_expert_invite,
        name="case-expert-invite",
    ),
    path("avis-expert/<str:token>/", experts.expert_opinion, name="expert-opinion"),
    path(
        "avis-expert/<str:token>/pieces/<int:pk>/",
        experts.expert_document,
        name="expert-document",
    ),
    path("dossiers/<int:pk>/dossier.pdf", dossier_pdf.case_pdf, name="case-pdf"),
    path(
        "dossiers/<int:pk>/demandes/<int:request_pk>/decision.pdf",
        dossier_pdf.decision_pdf,
        name="request-decision-pdf",
    ),
]
