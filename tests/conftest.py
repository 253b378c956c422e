import pytest

POSTGRES_ONLY = "needs PostgreSQL (marker « postgres »): this run is on {vendor}"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` are skipped, with their reason in the summary, when the
    database is not PostgreSQL. Nothing else depends on the database vendor: every other
    test runs, and must pass, on SQLite and PostgreSQL alike."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason=POSTGRES_ONLY.format(vendor=connection.vendor))
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def pytest_sessionstart(session):
    """A SQLite test database is a file (threads and transactional tests need one): drop
    the WAL files a killed run may have left beside it, which SQLite would otherwise
    replay into the new database. Kept with ``--reuse-db``."""
    from django.conf import settings

    if session.config.getoption("reuse_db", False):
        return
    db = settings.DATABASES["default"]
    name = str(db.get("TEST", {}).get("NAME") or "")
    if db["ENGINE"].endswith("sqlite3") and name and "memory" not in name:
        import os

        for suffix in ("-wal", "-shm", "-journal"):
            if os.path.exists(name + suffix):
                os.remove(name + suffix)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_company_register(settings):
    """No test reaches the real company register (CI has no network): the look-up is off
    unless a test points it at its own local server."""
    settings.GUICHET_COMPANY_REGISTER_URL = ""


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the process-local default): a name cached
    by an earlier test under an id SQLite gives again after a flush must not leak."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Reference data (territory, schemes) comes from data migrations. A reused test
    database (``--reuse-db``) may have lost it to a transactional test's flush: load it
    again so every session starts from the same reference data."""
    from schemes.models import Scheme
    from tests.reference import reference_data_load

    with django_db_blocker.unblock():
        if not Scheme.objects.exists():
            reference_data_load()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database needs no durability: PostgreSQL acknowledges a commit before its WAL
    reaches the disk (``synchronous_commit=off``, this session's setting only, never the
    server's), SQLite does not wait for the disk either. Transactional tests commit and
    flush a lot; nothing they check depends on a crash of the test server."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    options = db.setdefault("OPTIONS", {})
    if db["ENGINE"].endswith("postgresql"):
        options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
    elif db["ENGINE"].endswith("sqlite3") and "init_command" in options:
        options["init_command"] = options["init_command"].replace(
            "synchronous=NORMAL", "synchronous=OFF"
        )
