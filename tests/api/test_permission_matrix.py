"""Every API route × every role, someone else's objects included.

Writes are sent with input that the service refuses after the permission checks (a missing
reason, an empty body…): an authorised role gets 400 and nothing changes, a role without the
right gets 403, someone who may not see the object gets 404, an anonymous caller 401. The
table must cover every route of the URL conf: a new route without an entry fails here.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from cases import services
from cases.committee import session_create
from cases.models import Case, User
from cases.services.extensions import extension_request
from engine.transitions import transition_apply
from notifications.channels import notify_in_app
from schemes.models import EPCI
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%matrix\n"
ROLES = [
    "anonymous",
    "porteur",
    "other_porteur",
    "agent",
    "epci_partner",
    "other_epci_partner",
    "committee_member",
    "funder_etat",
    "funder_region",
    "director",
    "admin",
]


def _dossier(porteur, agent, etat, *, decided: bool):
    case = services.case_create(
        actor=porteur,
        data={
            "title": "Maison de santé",
            "state": "draft",
            "financing_plan": {
                "expenses": [{"label": "Travaux", "amount": "100000.00"}],
                "resources": [
                    {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
                    {"kind": "self", "amount": "60000.00"},
                ],
            },
        },
    )
    if not decided:
        return case, None, None
    for code in f.scheme("DETR").required_document_codes():
        services.document_upload(
            actor=porteur, case=case, kind=code, upload=SimpleUploadedFile(f"{code}.pdf", PDF)
        )
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": "2026-01-05"})
    transition_apply(
        instance=case, name="declare_complete", actor=agent, data={"date": "2026-01-12"}
    )
    fr = case.funding_requests.get()
    transition_apply(instance=fr, name="start_instruction", actor=etat)
    transition_apply(
        instance=fr,
        name="grant",
        actor=etat,
        data={"amount_granted": "40000.00", "date": "2026-02-02"},
    )
    transition_apply(instance=fr, name="commit", actor=etat, data={"date": "2026-02-09"})
    claim = services.claim_create(
        actor=porteur, funding_request=fr, data={"kind": "advance", "amount": "10000.00"}
    )
    return Case.objects.get(pk=case.pk), fr, claim


@pytest.fixture
def world():
    organisation = f.OrganisationFactory()
    epci = organisation.epci
    other_epci = EPCI.objects.exclude(pk=epci.pk).first()
    users = {
        "porteur": f.porteur(organisation=organisation),
        "other_porteur": f.porteur(),
        "agent": f.agent(epci=epci),
        "epci_partner": f.UserFactory(role=User.Role.EPCI_PARTNER, epci=epci),
        "other_epci_partner": f.UserFactory(role=User.Role.EPCI_PARTNER, epci=other_epci),
        "committee_member": f.committee_member("private", "agriculture"),
        "funder_etat": f.funder_instructor("ETAT"),
        "funder_region": f.funder_instructor("REGION_OCC"),
        "director": f.UserFactory(role=User.Role.DIRECTOR),
        "admin": f.UserFactory(role=User.Role.ADMIN, is_superuser=True, is_staff=True),
    }
    draft, _, _ = _dossier(users["porteur"], users["agent"], users["funder_etat"], decided=False)
    case, fr, claim = _dossier(users["porteur"], users["agent"], users["funder_etat"], decided=True)
    for group in ("tourisme", "associations", "entreprises"):
        f.committee_member("private", group)
    session = session_create(
        actor=users["agent"],
        date=dt.date(2026, 3, 1),
        members=[users["committee_member"].pk],
        scheme=f.scheme("LEADER"),
    )
    extension = extension_request(
        actor=users["porteur"],
        funding_request=fr,
        deadline="works_start",
        until=dt.date(2028, 6, 1),
        reason="Marché de travaux infructueux, relance en cours.",
    )
    note = notify_in_app(
        user_id=users["porteur"].pk, kind="test", message="Bonjour", dedup_key="matrix"
    )
    ids = {
        "draft": draft.pk,
        "case": case.pk,
        "fr": fr.pk,
        "claim": claim.pk,
        "session": session.pk,
        "note": note.pk,
        "extension": extension.pk,
        "org": organisation.pk,
    }
    return users, ids


def E(**codes):
    """Expected status per role; ``_`` is the default for the roles not named."""
    default = codes.pop("_")
    out = {role: codes.get(role, default) for role in ROLES}
    out.setdefault("anonymous", 401)
    if "anonymous" not in codes:
        out["anonymous"] = 401
    return out


ALL_200 = E(_=200)
SEE_CASE = dict(porteur=200, agent=200, epci_partner=200, funder_etat=200, director=200, admin=200)
HIDE_CASE = dict(other_porteur=404, other_epci_partner=404, committee_member=404, funder_region=404)
SESSIONS = dict(agent=200, committee_member=200, director=200, admin=200)

# route pattern -> list of (method, url template, body, expected codes)
MATRIX = {
    "api/v1/": [("get", "/api/v1/", None, E(_=200, anonymous=200))],  # the public index
    "api/v1/auth/token/": [("post", "/api/v1/auth/token/", {}, E(_=400, anonymous=400))],
    "api/v1/me/": [("get", "/api/v1/me/", None, ALL_200)],
    "api/v1/users/": [("post", "/api/v1/users/", {}, E(_=403, admin=400))],
    "api/v1/schemes/": [("get", "/api/v1/schemes/", None, ALL_200)],
    "api/v1/communes/": [("get", "/api/v1/communes/", None, ALL_200)],
    # the company register look-up (issue 15): for the roles that create organisations; no
    # number is a 400 before any call
    "api/v1/company-lookup/": [
        ("get", "/api/v1/company-lookup/", None, E(_=403, agent=400, admin=400))
    ],
    # envelopes (issue 14): the territory's staff and the funders
    "api/v1/envelopes/": [
        (
            "get",
            "/api/v1/envelopes/",
            None,
            E(
                _=403,
                agent=200,
                epci_partner=200,
                other_epci_partner=200,
                director=200,
                admin=200,
                funder_etat=200,
                funder_region=200,
            ),
        ),
    ],
    # calls for projects (issue 14 point 5): public list, published by agents; the ranked
    # agenda for the staff and the committee
    "api/v1/calls/": [
        ("get", "/api/v1/calls/", None, E(_=200, anonymous=200)),
        ("post", "/api/v1/calls/", {}, E(_=403, anonymous=401, agent=400, admin=400)),
    ],
    "api/v1/calls/<int:pk>/agenda/": [
        (
            "get",
            "/api/v1/calls/999999/agenda/",
            None,
            E(_=403, anonymous=401, agent=404, committee_member=404, director=404, admin=404),
        ),
    ],
    # the treasury forecast (issue 13): the organisation itself and its territory's staff
    "api/v1/organisations/<int:pk>/treasury/": [
        (
            "get",
            "/api/v1/organisations/{org}/treasury/",
            None,
            E(_=404, porteur=200, agent=200, epci_partner=200, director=200, admin=200),
        ),
    ],
    "api/v1/organisations/": [
        ("get", "/api/v1/organisations/", None, ALL_200),
        ("post", "/api/v1/organisations/", {}, E(_=403, agent=400, admin=400)),
    ],
    "api/v1/cases/": [
        ("get", "/api/v1/cases/", None, ALL_200),
        (
            "post",
            "/api/v1/cases/",
            {},
            E(_=403, porteur=400, other_porteur=400, agent=400, admin=400),
        ),
    ],
    "api/v1/cases/<int:pk>/": [
        ("get", "/api/v1/cases/{case}/", None, E(_=404, **SEE_CASE)),
        (
            "patch",
            "/api/v1/cases/{draft}/",
            {"title": ""},
            E(_=404, porteur=400, agent=400, admin=400, epci_partner=403, director=403),
        ),
    ],
    "api/v1/cases/<int:pk>/transitions/<slug:name>/": [
        (
            "post",
            "/api/v1/cases/{case}/transitions/withdraw/",
            {},
            E(
                _=404,
                porteur=400,
                agent=400,
                admin=400,
                epci_partner=403,
                funder_etat=403,
                director=403,
            ),
        ),
    ],
    "api/v1/cases/<int:pk>/documents/": [
        ("get", "/api/v1/cases/{case}/documents/", None, E(_=404, **SEE_CASE)),
        (
            "post_multipart",
            "/api/v1/cases/{case}/documents/",
            {"kind": "devis"},
            E(
                _=404,
                porteur=400,
                agent=400,
                admin=400,
                epci_partner=403,
                funder_etat=403,
                director=403,
            ),
        ),
    ],
    "api/v1/cases/<int:pk>/opinions/": [
        ("get", "/api/v1/cases/{case}/opinions/", None, E(_=404, **SEE_CASE)),
        (
            "post",
            "/api/v1/cases/{case}/opinions/",
            {},
            E(
                _=404,
                agent=400,
                epci_partner=400,
                admin=400,
                porteur=403,
                funder_etat=403,
                director=403,
            ),
        ),
    ],
    "api/v1/cases/<int:pk>/share-exception/": [
        (
            "post",
            "/api/v1/cases/{case}/share-exception/",
            {},
            E(
                _=404,
                agent=400,
                admin=400,
                porteur=403,
                epci_partner=403,
                funder_etat=403,
                director=403,
            ),
        ),
    ],
    "api/v1/funding-requests/<int:pk>/": [
        ("get", "/api/v1/funding-requests/{fr}/", None, E(_=404, **SEE_CASE)),
    ],
    "api/v1/funding-requests/<int:pk>/transitions/<slug:name>/": [
        (
            "post",
            "/api/v1/funding-requests/{fr}/transitions/withdraw/",
            {},
            E(
                _=404,
                porteur=400,
                agent=400,
                admin=400,
                epci_partner=403,
                funder_etat=403,
                director=403,
            ),
        ),
    ],
    # bulk: a role that may never apply the transition is refused as a whole (403); an
    # empty body is refused after that check (400); each item is checked as one by one
    # (tests/api/test_bulk.py, tests/tenancy/test_api.py)
    "api/v1/funding-requests/bulk/<slug:name>/": [
        (
            "post",
            "/api/v1/funding-requests/bulk/grant/",
            {},
            E(_=403, funder_etat=400, funder_region=400, admin=400),
        ),
        (
            "post",
            "/api/v1/funding-requests/bulk/withdraw/",
            {},
            E(_=403, porteur=400, other_porteur=400, agent=400, admin=400),
        ),
        ("post", "/api/v1/funding-requests/bulk/nimportequoi/", {}, E(_=404)),
    ],
    # bulk payments (« Payer »), likewise: only the funders' instructors pay
    "api/v1/payment-claims/bulk/<slug:name>/": [
        (
            "post",
            "/api/v1/payment-claims/bulk/pay/",
            {},
            E(_=403, funder_etat=400, funder_region=400, admin=400),
        ),
        ("post", "/api/v1/payment-claims/bulk/nimportequoi/", {}, E(_=404)),
    ],
    # one message to many dossiers: an empty body is a 400 before any dossier is read;
    # each dossier is then checked as one message (tests/api/test_bulk_message.py)
    "api/v1/cases/bulk/message/": [("post", "/api/v1/cases/bulk/message/", {}, E(_=400))],
    "api/v1/funding-requests/<int:pk>/payment-claims/": [
        ("get", "/api/v1/funding-requests/{fr}/payment-claims/", None, E(_=404, **SEE_CASE)),
        (
            "post",
            "/api/v1/funding-requests/{fr}/payment-claims/",
            {},
            E(
                _=404,
                porteur=400,
                admin=400,
                agent=403,
                epci_partner=403,
                funder_etat=403,
                director=403,
            ),
        ),
    ],
    "api/v1/payment-claims/<int:pk>/": [
        ("get", "/api/v1/payment-claims/{claim}/", None, E(_=404, **SEE_CASE)),
    ],
    "api/v1/payment-claims/<int:pk>/transitions/<slug:name>/": [
        (
            "post",
            "/api/v1/payment-claims/{claim}/transitions/file/",
            {"date": "hier"},
            E(
                _=404,
                porteur=400,
                admin=400,
                agent=403,
                epci_partner=403,
                funder_etat=403,
                director=403,
            ),
        ),
    ],
    "api/v1/committee-sessions/": [
        ("get", "/api/v1/committee-sessions/", None, E(_=403, **SESSIONS)),
        ("post", "/api/v1/committee-sessions/", {}, E(_=403, agent=400, admin=400)),
    ],
    "api/v1/committee-sessions/<int:pk>/": [
        ("get", "/api/v1/committee-sessions/{session}/", None, E(_=403, **SESSIONS)),
    ],
    "api/v1/committee-sessions/<int:pk>/votes/": [
        (
            "post",
            "/api/v1/committee-sessions/{session}/votes/",
            {},
            E(_=403, agent=400, admin=400, committee_member=400),
        ),
    ],
    "api/v1/committee-sessions/<int:pk>/transitions/<slug:name>/": [
        (
            "post",
            "/api/v1/committee-sessions/{session}/transitions/close/",
            {},
            E(_=403, agent=400, admin=400, committee_member=403),
        ),
    ],
    "api/v1/committee-sessions/<int:pk>/conflicts/": [
        (
            "post",
            "/api/v1/committee-sessions/{session}/conflicts/",
            {},
            E(_=403, agent=400, admin=400, committee_member=400),
        ),
    ],
    "api/v1/committee-substitutes/": [
        ("get", "/api/v1/committee-substitutes/", None, E(_=403, **SESSIONS)),
        ("post", "/api/v1/committee-substitutes/", {}, E(_=403, agent=400, admin=400)),
    ],
    "api/v1/funding-requests/<int:pk>/extensions/": [
        ("get", "/api/v1/funding-requests/{fr}/extensions/", None, E(_=404, **SEE_CASE)),
        (
            "post",
            "/api/v1/funding-requests/{fr}/extensions/",
            {},
            E(
                _=404,
                porteur=400,
                agent=400,
                admin=400,
                epci_partner=403,
                funder_etat=403,
                director=403,
            ),
        ),
    ],
    "api/v1/extensions/<int:pk>/": [
        ("get", "/api/v1/extensions/{extension}/", None, E(_=404, **SEE_CASE)),
    ],
    "api/v1/extensions/<int:pk>/transitions/<slug:name>/": [
        (
            "post",
            "/api/v1/extensions/{extension}/transitions/refuse/",
            {},
            E(
                _=404,
                funder_etat=400,
                admin=400,
                porteur=403,
                agent=403,
                epci_partner=403,
                director=403,
            ),
        ),
    ],
    "api/v1/funding-requests/<int:pk>/recovery-orders/": [
        ("get", "/api/v1/funding-requests/{fr}/recovery-orders/", None, E(_=404, **SEE_CASE)),
        (
            "post",
            "/api/v1/funding-requests/{fr}/recovery-orders/",
            {},
            E(
                _=404,
                funder_etat=400,
                admin=400,
                porteur=403,
                agent=403,
                epci_partner=403,
                director=403,
            ),
        ),
    ],
    "api/v1/recovery-orders/<int:pk>/": [
        ("get", "/api/v1/recovery-orders/999999/", None, E(_=404)),
    ],
    "api/v1/recovery-orders/<int:pk>/transitions/<slug:name>/": [
        ("post", "/api/v1/recovery-orders/999999/transitions/recover/", {}, E(_=404)),
    ],
    "api/v1/deadlines/": [("get", "/api/v1/deadlines/", None, ALL_200)],
    "api/v1/notifications/": [("get", "/api/v1/notifications/", None, ALL_200)],
    "api/v1/notifications/unread-count/": [
        ("get", "/api/v1/notifications/unread-count/", None, ALL_200)
    ],
    "api/v1/notifications/read-all/": [("post", "/api/v1/notifications/read-all/", {}, ALL_200)],
    "api/v1/notifications/<int:pk>/read/": [
        ("post", "/api/v1/notifications/{note}/read/", {}, E(_=404, porteur=200)),
    ],
    "api/v1/alerts/": [("get", "/api/v1/alerts/?kind=nimportequoi", None, E(_=400))],
    "api/v1/alerts/<int:pk>/acknowledge/": [
        ("post", "/api/v1/alerts/999999/acknowledge/", {}, E(_=404)),
    ],
    "api/v1/me/calendar/": [("get", "/api/v1/me/calendar/", None, ALL_200)],
    "api/v1/auth/token/revoke/": [
        ("post", "/api/v1/auth/token/revoke/", {}, E(_=204)),
        ("post", "/api/v1/auth/token/revoke/", {"user": 999999999}, E(_=403, admin=404)),
    ],
    "api/v1/me/export/": [("get", "/api/v1/me/export/", None, ALL_200)],
    "api/v1/audit/": [("get", "/api/v1/audit/", None, E(_=403, admin=200, director=200))],
}


def api_routes() -> set[str]:
    found = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if route.startswith("api/v1/"):
                    found.add(route)

    walk(get_resolver().url_patterns)
    return found


def test_every_api_route_is_in_the_matrix():
    missing = api_routes() - set(MATRIX)
    assert not missing, f"routes without permission expectations: {sorted(missing)}"


def test_permission_matrix(world):
    users, ids = world
    mismatches = []
    for checks in MATRIX.values():
        for method, url, body, expected in checks:
            for role in ROLES:
                client = APIClient()
                if role != "anonymous":
                    client.force_authenticate(users[role])
                target = url.format(**ids)
                if method == "post_multipart":
                    response = client.post(target, body, format="multipart")
                elif body is not None:
                    response = getattr(client, method)(target, body, format="json")
                else:
                    response = getattr(client, method)(target)
                if response.status_code != expected[role]:
                    mismatches.append(
                        f"{method.upper()} {url} as {role}: {response.status_code} "
                        f"(expected {expected[role]}) {response.content[:120]!r}"
                    )
                else:
                    assert response.status_code < 500
                    if response.status_code >= 400:
                        assert response.json().get("detail"), (method, url, role)
    assert not mismatches, "\n".join(mismatches)
    # nothing was changed by the refused writes
    assert Case.objects.get(pk=ids["case"]).state == "decided"
    assert Case.objects.get(pk=ids["draft"]).title == "Maison de santé"
