"""Routes of the funders' conference (issue 14, point 6)."""

from django.urls import path

from . import conference

urlpatterns = [
    path("programmation/conferences/", conference.conference_list, name="conference-list"),
    path(
        "programmation/conferences/<int:pk>/",
        conference.conference_detail,
        name="conference-detail",
    ),
    path(
        "programmation/conferences/<int:pk>/seance/",
        conference.conference_edit,
        name="conference-edit",
    ),
    path(
        "programmation/conferences/<int:pk>/ordre-du-jour/",
        conference.agenda_add,
        name="conference-agenda-add",
    ),
    path(
        "programmation/conferences/<int:pk>/ordre-du-jour/<int:item_pk>/retirer/",
        conference.agenda_remove,
        name="conference-agenda-remove",
    ),
    path(
        "programmation/conferences/<int:pk>/positions/",
        conference.position_record,
        name="conference-position",
    ),
    path(
        "programmation/conferences/<int:pk>/releve.pdf",
        conference.conference_minutes,
        name="conference-minutes",
    ),
]
