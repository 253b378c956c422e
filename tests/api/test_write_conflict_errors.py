"""What counts as a write conflict (a lost race for the database: retry) and how it is
answered: 409 with a French ``detail`` in the API, a French page elsewhere; any other
database error stays a server error."""

import sqlite3

import psycopg
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError
from django.test import RequestFactory

from guichet import concurrency
from guichet.api.exceptions import exception_handler


def _wrapped(original: Exception) -> OperationalError:
    """As Django raises it: its own OperationalError, the driver's error as the cause."""
    try:
        try:
            raise original
        except Exception as exc:
            raise OperationalError(str(exc)) from exc
    except OperationalError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "original, conflict",
    [
        (sqlite3.OperationalError("database is locked"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), True),
        (psycopg.errors.SerializationFailure("could not serialize access"), True),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), True),
        (sqlite3.OperationalError("no such table: cases_case"), False),
        (psycopg.errors.AdminShutdown("terminating connection"), False),
    ],
)
@pytest.mark.django_db
def test_which_errors_are_write_conflicts(original, conflict):
    error = _wrapped(original)
    assert concurrency.is_write_conflict(error) is conflict
    answer = exception_handler(error, {})
    if conflict:
        assert answer.status_code == 409 and answer.data["detail"] == concurrency.MESSAGE
    else:
        assert answer is None  # left to Django: a real server error
    middleware = concurrency.WriteConflictMiddleware(lambda request: None)
    request = RequestFactory().post("/dossiers/1/notes/")
    request.user = AnonymousUser()
    page = middleware.process_exception(request, error)
    assert (page is not None and page.status_code == 409) is conflict
    if conflict:
        assert concurrency.MESSAGE in page.content.decode()
