"""A write conflict raised after the view, by a middleware's response step (the session
saved after a login, say), is a 409 too, never a 500 (``guichet.concurrency.server_error``)."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


class LockedOnTheWayOut:
    """A middleware whose response step meets a locked database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(("/transparence", "/api/v1/calls", "/api/v1/schemes")):
            raise OperationalError("database is locked")
        return response


class BrokenOnTheWayOut(LockedOnTheWayOut):
    def __call__(self, request):
        self.get_response(request)
        raise OperationalError("disk I/O error")


@pytest.fixture
def late(settings):
    def use(middleware):
        settings.MIDDLEWARE = [f"{__name__}.{middleware.__name__}", *settings.MIDDLEWARE]
        settings.DEBUG = False
        return Client(raise_request_exception=False)

    return use


def test_a_lock_met_by_a_middleware_is_a_french_409(late):
    client = late(LockedOnTheWayOut)
    page = client.get("/transparence/")
    assert page.status_code == 409 and "réessayez" in page.content.decode()
    api = client.get("/api/v1/schemes/")
    assert api.status_code == 409 and "réessayez" in api.json()["detail"]


def test_any_other_database_error_stays_a_server_error(late):
    client = late(BrokenOnTheWayOut)
    assert client.get("/transparence/").status_code == 500
    api = client.get("/api/v1/schemes/")
    assert api.status_code == 500 and "Erreur interne" in api.json()["detail"]
