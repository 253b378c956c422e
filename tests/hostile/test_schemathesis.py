"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis).

The schema is loaded from ``/api/schema/`` through the Django WSGI application; every
operation is called with generated input (valid and invalid: schemathesis' positive and
negative modes), as each role (token header), with a bounded number of examples. Checks:
never a 5xx, every status code documented, content types and bodies conform to the schema.
Path ids and transition names are steered half of the time to real objects, so that the
calls reach the services and the transition guards, not only the 404 path.

One test per role walks every operation (the dossiers it needs are built once per role).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from cases.models import Case, CommitteeSession, FundingRequest, PaymentClaim
from engine.transitions import registration_for
from guichet.wsgi import application
from notifications.models import Alert, Notification

from .conftest import token_for
from .harness import EXAMPLES

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Examples per operation: the roles that write most get more (the whole run stays ~2 min
# at the default GUICHET_FUZZ_EXAMPLES=25: 10 and 5; the lighter SQLite pass scales them).
_MORE, _FEWER = max(2, EXAMPLES * 2 // 5), max(1, EXAMPLES // 5)
ROLES = {
    "porteur": _MORE,
    "agent": _MORE,
    "funder_instructor": _MORE,
    "admin": _FEWER,
    "epci_partner": _FEWER,
    "committee_member": _FEWER,
}
MAX_EXAMPLES = _MORE
SKIP = {
    # Revoking one's own token would log the role out for the rest of the walk; it is
    # exercised last, on its own (see test_token_revoke_conforms).
    ("POST", "/api/v1/auth/token/revoke/"),
}

# Loaded once at collection through the WSGI app (the schema view needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

MODELS = (
    ("/api/v1/cases/", Case),
    ("/api/v1/funding-requests/", FundingRequest),
    ("/api/v1/payment-claims/", PaymentClaim),
    ("/api/v1/committee-sessions/", CommitteeSession),
    ("/api/v1/notifications/", Notification),
    ("/api/v1/alerts/", Alert),
)


def _model(path: str):
    return next((model for prefix, model in MODELS if path.startswith(prefix)), None)


def steer(case) -> None:
    """Half of the generated ids and transition names become real ones (deterministically,
    from the generated value, so that hypothesis still shrinks and replays)."""
    params = case.path_parameters
    if not params:
        return
    model = _model(case.operation.path)
    ident = params.get("id")
    if model is not None and isinstance(ident, int) and ident % 2 == 0:
        ids = sorted(model.objects.values_list("pk", flat=True))
        if ids:
            params["id"] = ids[ident // 2 % len(ids)]
    name = params.get("name")
    if model is not None and isinstance(name, str) and len(name) % 2 == 0:
        names = sorted(registration_for(model).specs)
        params["name"] = names[len(name) // 2 % len(names)]


def operations():
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in SKIP:
            yield operation


def walk(operation, headers: dict, max_examples: int = MAX_EXAMPLES) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        steer(case)
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def walk_all(headers: dict, max_examples: int = MAX_EXAMPLES) -> list[str]:
    failures = []
    for operation in operations():
        try:
            walk(operation, headers, max_examples)
        except (Exception, BaseExceptionGroup) as exc:  # one report for every failing operation
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    return failures


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """As Django's test client does: the WSGI app must not close the connection that holds
    the test's transaction at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_schema_lists_every_route():
    assert len(list(operations())) >= 35


@pytest.mark.parametrize("role", list(ROLES))
def test_api_conforms_to_its_schema_and_never_fails(role, world):
    headers = {"Authorization": f"Token {token_for(world['users'][role])}"}
    failures = walk_all(headers, ROLES[role])
    assert not failures, "\n\n".join(failures)


def test_anonymous_calls_conform_and_are_refused(world):
    failures = walk_all({}, max_examples=2)
    assert not failures, "\n\n".join(failures)


def test_token_revoke_conforms(world):
    operation = schema["/api/v1/auth/token/revoke/"]["POST"]
    walk(operation, {"Authorization": f"Token {token_for(world['users']['porteur'])}"}, 5)
