import importlib

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Reference data (territory, schemes) comes from data migrations. A reused test
    database (``--reuse-db``) may have lost it to a transactional test's flush: load it
    again so every session starts from the same reference data."""
    from django.apps import apps

    from workflows.models import Scheme

    with django_db_blocker.unblock():
        if not Scheme.objects.exists():
            for module in (
                "cases.migrations.0002_territory",
                "workflows.migrations.0002_default_schemes",
            ):
                importlib.import_module(module).load(apps, None)
