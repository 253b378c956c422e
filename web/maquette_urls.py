"""Routes of the « Maquette financière » (issue 14): the page, its exports, the scenarios."""

from django.urls import path

from . import maquette, scenarios

urlpatterns = [
    path("programmation/", maquette.maquette_page, name="maquette"),
    path("programmation/maquette.xlsx", maquette.maquette_xlsx, name="maquette-xlsx"),
    path("programmation/maquette.ods", maquette.maquette_ods, name="maquette-ods"),
    path("programmation/scenarios/", scenarios.scenario_list, name="scenarios"),
    path("programmation/scenarios/comparer/", scenarios.scenario_compare, name="scenario-compare"),
    path("programmation/scenarios/<int:pk>/", scenarios.scenario_page, name="scenario"),
    path(
        "programmation/scenarios/<int:pk>/tresorerie/",
        scenarios.scenario_treasury,
        name="scenario-treasury",
    ),
    path(
        "programmation/scenarios/<int:pk>/appliquer/",
        scenarios.scenario_apply,
        name="scenario-apply",
    ),
]
