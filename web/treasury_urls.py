"""Routes of « Ma trésorerie » (issue 13): the porteur's page and PDF, and the same for
whoever may read an organisation's forecast (its territory's staff)."""

from django.urls import path

from . import treasury

urlpatterns = [
    path("ma-tresorerie/", treasury.my_treasury, name="my-treasury"),
    path("ma-tresorerie/pret-relais.pdf", treasury.my_treasury_pdf, name="my-treasury-pdf"),
    path(
        "organisations/<int:pk>/tresorerie/",
        treasury.organisation_treasury,
        name="organisation-treasury",
    ),
    path(
        "organisations/<int:pk>/tresorerie/pret-relais.pdf",
        treasury.organisation_treasury_pdf,
        name="organisation-treasury-pdf",
    ),
]
