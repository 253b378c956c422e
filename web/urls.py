"""Routes of the server-rendered pages (French paths). Each area keeps its own routes."""

from django.urls import path

from . import (
    agent_urls,
    calls_urls,
    committee_urls,
    conference_urls,
    experts_urls,
    funders_urls,
    habits_urls,
    maquette_urls,
    observatory_urls,
    porteur_urls,
    proconnect,
    public_urls,
    signed_documents_urls,
    treasury_urls,
    views,
)

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", proconnect.LoginView.as_view(), name="login"),
    path("connexion/proconnect/", proconnect.start, name="proconnect_start"),
    path("connexion/proconnect/retour/", proconnect.callback, name="proconnect_callback"),
    path("deconnexion/", proconnect.LogoutView.as_view(), name="logout"),
]
for _module in (
    porteur_urls,
    agent_urls,
    funders_urls,
    committee_urls,
    public_urls,
    observatory_urls,
    experts_urls,
    habits_urls,
    treasury_urls,
    maquette_urls,
    calls_urls,
    conference_urls,
    signed_documents_urls,
):
    urlpatterns += _module.urlpatterns
