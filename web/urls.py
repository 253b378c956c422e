"""Routes of the server-rendered pages (French paths)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", auth_views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    # Pages below are filled in by their own modules; until then they lead home.
    path("mes-dossiers/", views.placeholder, name="my-cases"),
    path("agent/", views.placeholder, name="agent-inbox"),
    path("financeurs/", views.placeholder, name="funders"),
    path("comite/", views.placeholder, name="committee"),
    path("transparence/", views.placeholder, name="public"),
]
