"""Two territories on one installation, each with its EPCI, commune, organisation,
dossiers (a draft and a decided one with a payment claim), committee session, alert and
staff: an agent, a director, an EPCI partner, a committee member and a (non-superuser)
administrator. Territory A is the default one of the migrations; B is created here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from cases.committee import session_create
from cases.models import Case, PaymentClaim, User
from cases.services.extensions import extension_request
from notifications.channels import notify_in_app
from notifications.models import Alert
from schemes.models import EPCI, Commune, Territory
from tests import factories as f
from tests.api.test_permission_matrix import _dossier

STAFF = ["agent", "director", "epci_partner", "committee_member", "admin"]


@dataclass
class Side:
    key: str
    territory: Territory
    epci: EPCI
    commune: Commune
    users: dict[str, User] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def marker(self) -> str:
        """A string found only in this side's dossiers (their titles)."""
        return f"témoin-{self.key}-confidentiel"

    @property
    def org_name(self) -> str:
        return f"Mairie témoin {self.key}"

    @property
    def case_ids(self) -> set[int]:
        return {self.ids["case"], self.ids["draft"]}


@dataclass
class World:
    a: Side
    b: Side
    etat: User  # a funder instructor: cross-territory on purpose
    superuser: User


def _side(key: str, territory: Territory, epci: EPCI, commune: Commune, etat: User) -> Side:
    side = Side(key, territory, epci, commune)
    org = f.OrganisationFactory(name=side.org_name, commune=commune)
    assert org.territory_id == territory.pk
    side.users = {
        "porteur": f.porteur(organisation=org),
        "agent": f.agent(epci=epci),
        "director": f.UserFactory(role=User.Role.DIRECTOR, territory=territory),
        "epci_partner": f.UserFactory(role=User.Role.EPCI_PARTNER, epci=epci),
        "committee_member": f.committee_member("public", territory=territory),
        "admin": f.UserFactory(role=User.Role.ADMIN, territory=territory, is_staff=True),
    }
    for role in STAFF:
        assert side.users[role].territory_id == territory.pk, role
    draft, _, _ = _dossier(side.users["porteur"], side.users["agent"], etat, decided=False)
    case, fr, claim = _dossier(side.users["porteur"], side.users["agent"], etat, decided=True)
    for obj in (draft, case):
        Case.objects.filter(pk=obj.pk).update(title=f"Maison de santé {side.marker}")
    session = session_create(
        actor=side.users["agent"],
        date=dt.date(2026, 3, 1),
        members=[side.users["committee_member"].pk],
        scheme=f.scheme("LEADER"),
    )
    alert = Alert.objects.create(
        kind=Alert.Kind.PAYMENT_OVERDUE,
        subject_type=ContentType.objects.get_for_model(PaymentClaim),
        subject_id=claim.pk,
        organisation=org,
        case=case,
        message=f"Paiement en retard — {side.marker}",
    )
    note = notify_in_app(
        user_id=side.users["porteur"].pk,
        kind="test",
        message=f"Bonjour {side.marker}",
        dedup_key=f"tenancy-{key}",
    )
    extension = extension_request(
        actor=side.users["porteur"],
        funding_request=fr,
        deadline="works_start",
        until=dt.date(2028, 6, 1),
        reason=f"Marché infructueux — {side.marker}",
    )
    side.ids = {
        "extension": extension.pk,
        "draft": draft.pk,
        "case": case.pk,
        "fr": fr.pk,
        "claim": claim.pk,
        "session": session.pk,
        "alert": alert.pk,
        "note": note.pk,
        "organisation": org.pk,
        "org": org.pk,  # the permission matrix's name for it
    }
    side.reference = Case.objects.get(pk=case.pk).reference
    return side


def _build() -> World:
    territory_a = Territory.objects.get(slug="albigeois-bastides")
    territory_b = Territory.objects.create(
        name="Pôle territorial du Ségala-Viaur", slug="segala-viaur", siren="200012345"
    )
    epci_b = EPCI.objects.create(
        siren="200099990", name="CC du Viaur (test)", territory=territory_b
    )
    commune_b = Commune.objects.create(
        insee="99001", name="Bourg-Témoin", population=812, epci=epci_b
    )
    commune_a = Commune.objects.order_by("insee").first()
    etat = f.funder_instructor("ETAT")
    a = _side("A", territory_a, commune_a.epci, commune_a, etat)
    b = _side("B", territory_b, epci_b, commune_b, etat)
    superuser = f.UserFactory(role=User.Role.ADMIN, is_superuser=True, is_staff=True)
    return World(a=a, b=b, etat=etat, superuser=superuser)


def _read_side(rows: Side) -> Side:
    side = Side(
        rows.key,
        Territory.objects.get(pk=rows.territory.pk),
        EPCI.objects.get(pk=rows.epci.pk),
        Commune.objects.get(pk=rows.commune.pk),
    )
    users = User.objects.in_bulk([user.pk for user in rows.users.values()])
    side.users = {role: users[user.pk] for role, user in rows.users.items()}
    side.ids = dict(rows.ids)
    side.reference = rows.reference
    return side


@pytest.fixture(scope="module")
def _world_rows(django_db_setup, django_db_blocker):
    """The two territories are built once per module, inside a transaction rolled back at
    its end; each test runs in a savepoint of it (pytest-django's ``db``), so every test
    still starts from these very rows, and none outlives the module."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_world_rows: World, db) -> World:
    """The module's two territories, read afresh for each test: a test that changes a
    user or a territory changes only its own copy (its rows are rolled back after it)."""
    return World(
        a=_read_side(_world_rows.a),
        b=_read_side(_world_rows.b),
        etat=User.objects.get(pk=_world_rows.etat.pk),
        superuser=User.objects.get(pk=_world_rows.superuser.pk),
    )
