"""Routes of the agent pages (owned by that area's module)."""

from django.urls import path

from . import agent, bulk, pipeline, treasury_territory

urlpatterns = [
    path("agent/", agent.agent_inbox, name="agent-inbox"),
    path("agent/taches/<int:task_id>/prendre/", agent.task_take, name="agent-task-take"),
    path("traitement-groupe/", bulk.bulk, name="bulk"),
    path("tresorerie/", treasury_territory.treasury_territory, name="treasury-territory"),
    path("revue-des-projets/", pipeline.project_review, name="project-review"),
    path("dossiers/<int:pk>/", agent.case_detail, name="case-detail"),
    path(
        "dossiers/<int:pk>/transitions/<slug:name>/",
        agent.case_transition,
        name="case-transition",
    ),
    path("dossiers/<int:pk>/avis/", agent.case_opinion, name="case-opinion"),
    path("dossiers/<int:pk>/notes/", agent.case_note, name="case-note"),
    path("dossiers/<int:pk>/messages/", agent.case_message, name="case-message"),
    path(
        "dossiers/<int:pk>/derogation/",
        agent.case_share_exception,
        name="case-share-exception",
    ),
]
