"""Routes of the observatory and its exports."""

from django.urls import path

from . import exports, observatory

urlpatterns = [
    path("observatoire/", observatory.observatory, name="observatory"),
    path(
        "observatoire/export/maquette-financiere.xlsx",
        exports.financing_plans_export,
        name="export-financing-plans",
    ),
    path(
        "observatoire/export/maquette-financiere.ods",
        exports.financing_plans_ods,
        name="export-financing-plans-ods",
    ),
    path(
        "observatoire/export/subventions-etalab.csv",
        exports.etalab_export,
        name="export-etalab",
    ),
    path(
        "observatoire/export/<slug:slug>.<str:fmt>",
        exports.observatory_export,
        name="observatory-export",
    ),
]
