"""Routes of the LEADER committee pages."""

from django.urls import path

from . import committee

urlpatterns = [
    path("comite/", committee.session_list, name="committee"),
    path("comite/seances/nouvelle/", committee.session_new, name="committee-session-new"),
    path("comite/seances/<int:pk>/", committee.session_detail, name="committee-session"),
    path("comite/seances/<int:pk>/votes/", committee.vote_post, name="committee-vote"),
    path("comite/seances/<int:pk>/cloture/", committee.session_close, name="committee-close"),
    path("comite/seances/<int:pk>/conflits/", committee.conflict_post, name="committee-conflict"),
    path("comite/seances/<int:pk>/grille/", committee.grid_page, name="committee-grid"),
    path("comite/seances/<int:pk>/grille/votes/", committee.grid_vote, name="committee-grid-vote"),
    path(
        "comite/seances/<int:pk>/grille/presences/",
        committee.grid_presence,
        name="committee-grid-presence",
    ),
    path("comite/suppleants/", committee.substitutes, name="committee-substitutes"),
    path(
        "comite/seances/<int:pk>/proces-verbal.pdf",
        committee.session_minutes,
        name="committee-minutes",
    ),
]
