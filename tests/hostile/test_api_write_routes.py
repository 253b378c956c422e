"""Every write route of the API (POST, PUT, PATCH, DELETE), and every transition a user may
apply, fuzzed with hostile bodies (hypothesis): one field replaced at a time — at any
depth — by a huge exponent, Unicode digits, « 1_000 », a boolean, null, 200 levels of
nesting, a megabyte string, a NUL byte, year 1 or 9999, a negative, zero or 3-decimal
amount, an id beyond a bigint; whole bodies that are empty, not an object or not JSON;
the same values form-encoded; ids beyond a bigint in the path.

Each request is sent by an actor who may use the route, on a real object in a state
where the write is possible. Whatever the body: never a 5xx; every answer within
``BOUND`` seconds (wall clock, a bound and not a benchmark); a refusal (4xx) has a French
``detail`` and leaves every row of the database as it was; an accepted request stores
no absurd value (a date outside 2000–2099, money beyond 12 digits, NUL, a megabyte of
text). Accepted requests are rolled back, so each example starts from the same objects.

The routes come from the URL conf and the transitions from the engine's registry: a new
write route or transition without an entry in ``ROUTES`` / ``TRANSITIONS`` fails
``test_every_write_route_and_transition_has_a_body_generator``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from cases.models import (
    Case,
    CommitteeSession,
    Extension,
    FundingRequest,
    PaymentClaim,
    RecoveryOrder,
)
from engine.transitions import SYSTEM, registration_for

from .bench import GOOD_SCORES, Bench, pdf
from .harness import BOUND, EXAMPLES, Rollback, timed
from .snapshots import changes, everything, insane_values
from .values import WHOLE_BODIES, as_text, encode, hostile_json, hostile_text

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
TODAY = "@today"  # replaced by the day the test runs


@dataclass
class Target:
    """One write: who sends it, on what, with which well-formed body."""

    actor: str
    url: Callable[[Bench], str]
    body: Callable[[Bench], dict] = lambda b: {}
    multipart: bool = False
    method: str = "post"


def _u(template: str, attr: str | None = None) -> Callable[[Bench], str]:
    if attr is None:
        return lambda b: template
    return lambda b: template.format(pk=getattr(b, attr).pk)


PLAN = {
    "expenses": [{"label": "Travaux", "amount": "100000.00", "tax": "HT", "eligible": True}],
    "resources": [
        {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
        {"kind": "self", "label": "Fonds propres", "amount": "60000.00"},
    ],
}


def _insee(b: Bench) -> str:
    return b.organisation.commune.insee


# (route of the URL conf, method) → the write. Transition routes are in TRANSITIONS.
ROUTES: dict[tuple[str, str], Target] = {
    ("api/v1/auth/token/", "post"): Target(
        "anonymous",
        _u("/api/v1/auth/token/"),
        lambda b: {"username": b.porteur.username, "password": "motdepasse-solide-42"},
    ),
    ("api/v1/users/", "post"): Target(
        "admin",
        _u("/api/v1/users/"),
        lambda b: {
            "username": "nouvel-agent",
            "password": "un-mot-de-passe-solide-42",
            "role": "porteur",
            "email": "nouveau@example.org",
            "organisation": b.organisation.pk,
            "epci": None,
            "funder": None,
            "college": None,
            "interest_group": None,
            "territory": None,
        },
    ),
    ("api/v1/organisations/", "post"): Target(
        "agent",
        _u("/api/v1/organisations/"),
        lambda b: {"name": "Foyer rural", "kind": "association", "siren": "", "commune": _insee(b)},
    ),
    ("api/v1/calls/", "post"): Target(
        "agent",
        _u("/api/v1/calls/"),
        lambda b: {
            "scheme": "DETR",
            "title": "Écoles sobres",
            "description": "Critères : gain énergétique.",
            "opens_on": TODAY,
            "closes_on": "2099-12-31",
            "envelope": "250000.00",
            "selection": "ranking",
        },
    ),
    ("api/v1/cases/", "post"): Target(
        "porteur",
        _u("/api/v1/cases/"),
        lambda b: {
            "title": "Maison de santé",
            "description": "Regrouper les soignants.",
            "theme": "Santé",
            "organisation": b.organisation.pk,
            "communes": [_insee(b)],
            "financing_plan": PLAN,
            "state": "draft",
        },
    ),
    ("api/v1/cases/<int:pk>/", "patch"): Target(
        "porteur",
        _u("/api/v1/cases/{pk}/", "draft"),
        lambda b: {
            "title": "Rénovation de l'école",
            "description": "Isolation.",
            "theme": "Écoles et enfance",
            "communes": [_insee(b)],
            "financing_plan": PLAN,
        },
        method="patch",
    ),
    ("api/v1/cases/<int:pk>/documents/", "post"): Target(
        "porteur",
        _u("/api/v1/cases/{pk}/documents/", "draft"),
        lambda b: {"kind": "devis", "label": "Devis du couvreur", "file": pdf()},
        multipart=True,
    ),
    ("api/v1/cases/<int:pk>/opinions/", "post"): Target(
        "agent",
        _u("/api/v1/cases/{pk}/opinions/", "submitted"),
        lambda b: {"kind": "opportunity", "value": "favourable", "text": "Projet mûr."},
    ),
    ("api/v1/cases/<int:pk>/share-exception/", "post"): Target(
        "agent",
        _u("/api/v1/cases/{pk}/share-exception/", "submitted"),
        lambda b: {
            "reason": "CGCT L1111-10 III : patrimoine protégé.",
            "legal_case": "patrimoine_protege",  # revised rule 8: the exception names it
        },
    ),
    # bulk work: the items, each read as one by one (two, so that a hostile value may
    # sit in one item while the other is refused, already committed)
    ("api/v1/funding-requests/bulk/<slug:name>/", "post"): Target(
        "instructor",
        _u("/api/v1/funding-requests/bulk/grant/"),
        lambda b: {
            "items": [
                {
                    "id": b.instructing.pk,
                    "amount_granted": "30000.00",
                    "date": TODAY,
                    "comment": "Saisi par le fuzzer.",
                },
                {"id": b.committed.pk, "amount_granted": "1000.00", "date": TODAY},
            ]
        },
    ),
    ("api/v1/payment-claims/bulk/<slug:name>/", "post"): Target(
        "instructor",
        _u("/api/v1/payment-claims/bulk/pay/"),
        lambda b: {
            "items": [
                {"id": b.verified_claim.pk, "amount": "3000.00", "date": TODAY},
                {"id": b.filed_claim.pk, "amount": "100.00", "date": TODAY},
            ]
        },
    ),
    # one message to many dossiers (ADR 010): each dossier as one message would be
    ("api/v1/cases/bulk/message/", "post"): Target(
        "agent",
        _u("/api/v1/cases/bulk/message/"),
        lambda b: {
            "items": [{"id": b.submitted.pk}, {"id": b.draft.pk}],
            "body": "Pièce manquante : merci de la déposer.",
            "internal": False,
        },
    ),
    ("api/v1/funding-requests/<int:pk>/payment-claims/", "post"): Target(
        "porteur",
        _u("/api/v1/funding-requests/{pk}/payment-claims/", "committed"),
        lambda b: {"kind": "installment", "amount": "1000.00", "filed_on": TODAY},
    ),
    ("api/v1/funding-requests/<int:pk>/extensions/", "post"): Target(
        "porteur",
        _u("/api/v1/funding-requests/{pk}/extensions/", "granted"),
        lambda b: {"deadline": "works_start", "until": "2028-09-01", "reason": "Retard."},
    ),
    ("api/v1/funding-requests/<int:pk>/recovery-orders/", "post"): Target(
        "instructor",
        _u("/api/v1/funding-requests/{pk}/recovery-orders/", "overpaid"),
        lambda b: {"amount": "100.00", "date": TODAY, "reason": "Dépenses réalisées moindres."},
    ),
    ("api/v1/committee-sessions/", "post"): Target(
        "agent",
        _u("/api/v1/committee-sessions/"),
        lambda b: {
            "date": "2026-12-15",
            "members": [m.pk for m in b.members],
            "scheme": "LEADER",
        },
    ),
    ("api/v1/committee-sessions/<int:pk>/votes/", "post"): Target(
        "member",
        _u("/api/v1/committee-sessions/{pk}/votes/", "session"),
        lambda b: {
            "funding_request": b.agenda_request.pk,
            "member": b.member.pk,
            "vote": "for",
            "scores": dict(GOOD_SCORES),
        },
    ),
    ("api/v1/committee-sessions/<int:pk>/conflicts/", "post"): Target(
        "member",
        _u("/api/v1/committee-sessions/{pk}/conflicts/", "session"),
        lambda b: {
            "funding_request": (b.session, b.agenda_request)[1].pk,
            "member": b.member.pk,
            "reason": "Élu de la commune porteuse.",
        },
    ),
    ("api/v1/committee-substitutes/", "post"): Target(
        "agent",
        _u("/api/v1/committee-substitutes/"),
        lambda b: {"titular": b.members[1].pk, "substitute": b.members[2].pk},
    ),
    ("api/v1/notifications/read-all/", "post"): Target(
        "porteur", _u("/api/v1/notifications/read-all/"), lambda b: {"ids": [b.notification.pk]}
    ),
    ("api/v1/notifications/<int:pk>/read/", "post"): Target(
        "porteur", _u("/api/v1/notifications/{pk}/read/", "notification")
    ),
    ("api/v1/alerts/<int:pk>/acknowledge/", "post"): Target(
        "agent", _u("/api/v1/alerts/{pk}/acknowledge/", "alert"), lambda b: {"comment": "Vu."}
    ),
    ("api/v1/me/calendar/", "post"): Target("porteur", _u("/api/v1/me/calendar/")),
    ("api/v1/auth/token/revoke/", "post"): Target(
        "admin", _u("/api/v1/auth/token/revoke/"), lambda b: {"user": b.porteur.pk}
    ),
}

TRANSITION_ROUTES = {
    "api/v1/cases/<int:pk>/transitions/<slug:name>/": Case,
    "api/v1/funding-requests/<int:pk>/transitions/<slug:name>/": FundingRequest,
    "api/v1/payment-claims/<int:pk>/transitions/<slug:name>/": PaymentClaim,
    "api/v1/committee-sessions/<int:pk>/transitions/<slug:name>/": CommitteeSession,
    "api/v1/recovery-orders/<int:pk>/transitions/<slug:name>/": RecoveryOrder,
    "api/v1/extensions/<int:pk>/transitions/<slug:name>/": Extension,
}
PREFIX = {
    Case: "cases",
    FundingRequest: "funding-requests",
    PaymentClaim: "payment-claims",
    CommitteeSession: "committee-sessions",
    RecoveryOrder: "recovery-orders",
    Extension: "extensions",
}


@dataclass
class Move:
    """A transition that a user applies: who, on which object (a ``Bench`` property), with
    which well-formed fields (besides ``comment``, which every transition reads)."""

    actor: str
    subject: str
    fields: dict[str, Any] = field(default_factory=dict)


TRANSITIONS: dict[tuple[type, str], Move] = {
    (Case, "start_scoping"): Move("agent", "idea"),
    (Case, "open_application"): Move("porteur", "idea"),
    (Case, "submit"): Move("porteur", "draft", {"date": TODAY}),
    (Case, "request_documents"): Move(
        "agent", "submitted", {"documents": ["Devis détaillé"], "date": TODAY}
    ),
    (Case, "provide_documents"): Move("porteur", "incomplete", {"date": TODAY}),
    (Case, "declare_complete"): Move("agent", "submitted", {"date": TODAY}),
    (Case, "start_works"): Move("porteur", "decided", {"date": TODAY, "confirm": False}),
    (Case, "complete_works"): Move("porteur", "works_started", {"date": TODAY}),
    (Case, "withdraw"): Move("porteur", "draft", {"reason": "Le conseil a renoncé."}),
    (FundingRequest, "acknowledge"): Move("instructor", "complete", {"date": TODAY}),
    (FundingRequest, "declare_complete"): Move("instructor", "acknowledged", {"date": TODAY}),
    (FundingRequest, "start_instruction"): Move("instructor", "complete", {"date": TODAY}),
    (FundingRequest, "submit_to_committee"): Move(
        "agent", "leader_instructing", {"pre_score": "14.50"}
    ),
    (FundingRequest, "resume_instruction"): Move("agent", "adjourned"),
    (FundingRequest, "grant"): Move(
        "instructor", "instructing", {"amount_granted": "30000.00", "date": TODAY}
    ),
    (FundingRequest, "refuse"): Move(
        "instructor", "instructing", {"motivation": "Hors priorités.", "date": TODAY}
    ),
    (FundingRequest, "commit"): Move("instructor", "granted", {"date": TODAY}),
    (FundingRequest, "withdraw"): Move("porteur", "instructing", {"reason": "Autre financement."}),
    (PaymentClaim, "file"): Move("porteur", "draft_claim", {"date": TODAY}),
    (PaymentClaim, "verify"): Move("instructor", "filed_claim", {"date": TODAY}),
    (PaymentClaim, "pay"): Move(
        "instructor", "verified_claim", {"amount": "3000.00", "date": TODAY}
    ),
    (PaymentClaim, "reject"): Move(
        "instructor", "filed_claim", {"motivation": "Factures absentes."}
    ),
    (PaymentClaim, "withdraw"): Move("porteur", "draft_claim"),
    (CommitteeSession, "close"): Move("agent", "session"),
    (RecoveryOrder, "issue"): Move("instructor", "recovery_order"),
    (RecoveryOrder, "recover"): Move("instructor", "recovery_order", {"date": TODAY}),
    (RecoveryOrder, "cancel"): Move("instructor", "recovery_order", {"motivation": "Erreur."}),
    (FundingRequest, "lapse"): Move(
        "instructor", "missed_grant", {"date": TODAY, "motivation": "Travaux non commencés."}
    ),
    (Extension, "grant"): Move("instructor", "extension", {"date": TODAY, "motivation": "Oui."}),
    (Extension, "refuse"): Move(
        "instructor", "extension", {"date": TODAY, "motivation": "Non justifié."}
    ),
}
#: Where a transition that only the system applies is attempted by a user (always refused).
SYSTEM_SUBJECT = {
    Case: "submitted",
    FundingRequest: "instructing",
    PaymentClaim: "filed_claim",
    CommitteeSession: "session",
    RecoveryOrder: "recovery_order",
}


# ---------------------------------------------------------------- what the URL conf has


def write_routes() -> set[tuple[str, str]]:
    found = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                view = getattr(p.callback, "view_class", None) or getattr(p.callback, "cls", None)
                if route.startswith("api/") and view is not None:
                    for method in WRITE_METHODS:
                        if hasattr(view, method):
                            found.add((route, method))

    walk(get_resolver().url_patterns)
    return found


def user_transitions() -> set[tuple[type, str]]:
    return {
        (model, name)
        for model in TRANSITION_ROUTES.values()
        for name, spec in registration_for(model).specs.items()
        if set(spec.roles) - {SYSTEM}
    }


def system_transitions() -> set[tuple[type, str]]:
    return {
        (model, name)
        for model in TRANSITION_ROUTES.values()
        for name, spec in registration_for(model).specs.items()
        if not set(spec.roles) - {SYSTEM}
    }


def test_every_write_route_and_transition_has_a_body_generator():
    routes = write_routes()
    missing = sorted(
        f"{method.upper()} {route}"
        for route, method in routes
        if (route, method) not in ROUTES and not (route in TRANSITION_ROUTES and method == "post")
    )
    assert not missing, f"write routes without a hostile-body generator: {missing}"
    untested = sorted(f"{m.__name__}.{n}" for m, n in user_transitions() - set(TRANSITIONS))
    assert not untested, f"transitions without a hostile-body generator: {untested}"
    stale = sorted(f"{m} {r}" for r, m in set(ROUTES) - routes)
    assert not stale, f"generators for routes that no longer exist: {stale}"
    assert len(routes) >= 20


# ---------------------------------------------------------------- the targets


def _transition_target(model, name: str) -> Target:
    move = TRANSITIONS.get((model, name)) or Move("agent", SYSTEM_SUBJECT[model])
    spec = registration_for(model).specs[name]
    fields = dict(move.fields)
    for declared in getattr(spec, "fields", ()) or ():  # descriptors, when declared
        fields.setdefault(declared.name, "")
    fields.setdefault("comment", "Saisi par le fuzzer.")
    return Target(
        move.actor,
        lambda b: f"/api/v1/{PREFIX[model]}/{getattr(b, move.subject).pk}/transitions/{name}/",
        lambda b: dict(fields),
    )


def targets():
    for (route, method), target in sorted(ROUTES.items()):
        yield pytest.param(target, id=f"{method.upper()} {route}")
    for model, name in sorted(
        user_transitions() | system_transitions(), key=lambda t: (t[0].__name__, t[1])
    ):
        if (model, name) in TRANSITIONS or (model, name) in system_transitions():
            yield pytest.param((model, name), id=f"{model.__name__}.{name}")


# ---------------------------------------------------------------- mutations


def paths(value, prefix=()) -> list[tuple]:
    """Every place of a body where a value sits (containers included)."""
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((*prefix, key))
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.append((*prefix, index))
            out += paths(item, (*prefix, index))
    return out


def put(body, path: tuple, value):
    """A copy of ``body`` with ``value`` at ``path``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        copy = dict(body)
        copy[head] = put(body.get(head), rest, value)
    else:
        copy = list(body)
        copy[head] = put(body[head], rest, value)
    return copy


@st.composite
def mutations(draw, body: dict, multipart: bool):
    """One hostile request body derived from a well-formed one."""
    places = paths(body) if not multipart else [(k,) for k in body]
    kinds = ["field", "field", "field", "extra", "drop", "whole", "form", "path"]
    if multipart:
        kinds = ["field", "field", "extra", "whole", "path"]
    kind = draw(st.sampled_from(kinds if places else ["extra", "whole", "form", "path"]))
    if kind == "field":
        place = draw(st.sampled_from(places))
        value = draw(hostile_text if multipart else hostile_json)
        return ("field", place, value)
    if kind == "extra":
        key = draw(st.sampled_from(["state", "id", "amount_paid", "role", "x" * 300, "\x00"]))
        return ("extra", (key,), draw(hostile_text if multipart else hostile_json))
    if kind == "drop":
        return ("drop", draw(st.sampled_from(places)), None)
    if kind == "whole":
        return ("whole", (), draw(st.sampled_from(WHOLE_BODIES)))
    if kind == "form":
        top = [(k,) for k in body] or [("x",)]
        return ("form", draw(st.sampled_from(top)), draw(hostile_text))
    return ("path", (), draw(st.sampled_from(["0", "99999999999999999999999", "9" * 100])))


def without(body, path):
    if len(path) == 1:
        if isinstance(body, dict):
            return {k: v for k, v in body.items() if k != path[0]}
        return [v for i, v in enumerate(body) if i != path[0]]
    return put(body, path[:-1], without(_at(body, path[:-1]), path[-1:]))


def _at(body, path):
    for key in path:
        body = body[key]
    return body


def _today(value, today: str):
    if value == TODAY:
        return today
    if isinstance(value, dict):
        return {k: _today(v, today) for k, v in value.items()}
    if isinstance(value, list):
        return [_today(v, today) for v in value]
    return value


def send(client: APIClient, target: Target, url: str, body: dict, mutation):
    kind, path, value = mutation
    method = getattr(client, target.method)
    if kind == "path":
        url = "/".join(value if part.isdigit() else part for part in url.split("/"))
        if target.multipart:
            return method(url, body, format="multipart")
        return method(url, encode(body), content_type="application/json")
    if kind == "whole":
        return client.generic(target.method.upper(), url, value, content_type="application/json")
    if kind == "form":
        flat = {k: as_text(v) if not hasattr(v, "read") else v for k, v in body.items()}
        flat[path[0]] = value
        if target.multipart:
            return method(url, flat, format="multipart")
        return method(url, flat, format="multipart")
    if kind == "drop":
        body = without(body, path)
    else:
        body = put(body, path, value)
    if target.multipart:
        return method(
            url,
            {k: (as_text(v) if not hasattr(v, "read") else v) for k, v in body.items()},
            format="multipart",
        )
    return method(url, encode(body), content_type="application/json")


def fresh(body: dict) -> dict:
    """The body with a new file for each request (an upload is read once)."""
    return {k: (pdf() if hasattr(v, "read") else v) for k, v in body.items()}


def check(response, elapsed: float, before: dict, mutation) -> None:
    label = f"{mutation[0]} {mutation[1]} = {str(mutation[2])[:80]!r}"
    assert response.status_code < 500, (
        f"{response.status_code} for {label}: {response.content[:500]!r}"
    )
    assert elapsed < BOUND, f"{elapsed:.2f} s for {label}"
    after = everything()
    if 400 <= response.status_code < 500:
        diff = changes(before, after)
        assert not diff, f"refused ({response.status_code}) yet changed, {label}: {diff}"
        if response.status_code != 405:
            body = response.json()
            assert isinstance(body.get("detail"), str) and body["detail"], body
            assert "Traceback" not in body["detail"]
    else:
        bad = insane_values(after)
        assert not bad, f"accepted ({response.status_code}) {label} and stored: {bad}"


@pytest.mark.parametrize("target", list(targets()))
def test_hostile_bodies_on_every_write(target):
    if isinstance(target, tuple):
        target = _transition_target(*target)
    bench = Bench()
    url = target.url(bench)
    base = _today(target.body(bench), bench.today.isoformat())
    client = APIClient()
    user = bench.user(target.actor)
    if user is not None:
        client.force_authenticate(user)

    before = everything()  # every example is rolled back: the same rows before each

    @settings_for_fuzz
    @given(mutation=mutations(base, target.multipart))
    def run(mutation):
        try:
            with transaction.atomic():
                response, elapsed = timed(lambda: send(client, target, url, fresh(base), mutation))
                check(response, elapsed, before, mutation)
                raise Rollback
        except Rollback:
            pass

    run()


settings_for_fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
