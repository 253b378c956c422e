"""Routes of the public pages (no login)."""

from django.urls import path

from . import open_data, public

urlpatterns = [
    path("transparence/", public.transparency, name="public"),
    path("t/<slug:slug>/transparence/", public.transparency, name="public-territory"),
    path("transparence/subventions.csv", open_data.subsidies_csv, name="public-subsidies"),
    path(
        "t/<slug:slug>/transparence/subventions.csv",
        open_data.subsidies_csv,
        name="public-subsidies-territory",
    ),
    path(
        "transparence/deliberations.csv", open_data.deliberations_csv, name="public-deliberations"
    ),
    path(
        "t/<slug:slug>/transparence/deliberations.csv",
        open_data.deliberations_csv,
        name="public-deliberations-territory",
    ),
    path(
        "transparence/comite/<int:pk>/proces-verbal.pdf",
        public.public_minutes,
        name="public-minutes",
    ),
]
