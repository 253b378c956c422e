"""Routes of the « Maquette financière » (issue 14): the page and its exports."""

from django.urls import path

from . import maquette

urlpatterns = [
    path("programmation/", maquette.maquette_page, name="maquette"),
    path("programmation/maquette.xlsx", maquette.maquette_xlsx, name="maquette-xlsx"),
    path("programmation/maquette.ods", maquette.maquette_ods, name="maquette-ods"),
]
