import pytest

from .celery_support import RedisServer


@pytest.fixture
def broker_url():
    """A private Redis per test: no other run, test or leftover worker can take our tasks."""
    server = RedisServer()
    server.start()
    yield server.url
    server.stop()
