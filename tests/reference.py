"""Reference data (territory, communes, funders, schemes, themes), reloaded when a transactional
test's flush emptied it, by the data migrations that first loaded it.

Those migrations predate the ``schemes`` app: they ask for ``cases.EPCI`` or
``workflows.Scheme``. ``TodaysModels`` answers with today's models, which live in
``schemes`` on the same tables."""

from __future__ import annotations

import importlib

from django.apps import apps

MOVED_TO_SCHEMES = {
    ("cases", "territory"),
    ("cases", "epci"),
    ("cases", "commune"),
    ("workflows", "funder"),
    ("workflows", "scheme"),
}


class TodaysModels:
    """The ``apps`` a data migration's ``load(apps, schema_editor)`` receives."""

    @staticmethod
    def get_model(app_label: str, model_name: str):
        if (app_label, model_name.lower()) in MOVED_TO_SCHEMES:
            app_label = "schemes"
        return apps.get_model(app_label, model_name)


def reference_data_load(*, territory: bool = True, schemes: bool = True) -> None:
    modules = []
    if territory:
        modules.append("cases.migrations.0002_territory")
    if schemes:
        modules.append("workflows.migrations.0002_default_schemes")
    for module in modules:
        importlib.import_module(module).load(TodaysModels(), None)
    if schemes:  # each scheme's own legal track, and the legal cases (L1111-10)
        importlib.import_module("schemes.migrations.0003_legal_track_data").forwards(
            TodaysModels(), None
        )
        importlib.import_module("schemes.migrations.0007_scheme_short_name").forwards(
            TodaysModels(), None
        )
    # the controlled list of themes (issue 12), which the dossiers' services require
    importlib.import_module("cases.migrations.0020_themes").merge_theme_variants(
        TodaysModels(), None
    )
