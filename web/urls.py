"""Routes of the server-rendered pages (French paths). Each area keeps its own routes."""

from django.contrib.auth import views as auth_views
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
    public_urls,
    signed_documents_urls,
    treasury_urls,
    views,
)

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", auth_views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
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
