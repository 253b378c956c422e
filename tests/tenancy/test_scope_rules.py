"""Where a row's territory comes from, and what follows a territory: new dossiers and
organisations, committee sessions, agent tasks, reminders to the director, digests, the
admin, and the one-territory installation of today."""

import datetime as dt

import pytest
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory
from rest_framework.test import APIClient

from cases import services
from cases.committee import committee_size, session_create
from cases.models import Case, Organisation, User
from engine.errors import DomainError
from notifications.digest import director_digest_lines
from notifications.recipients import Recipients
from schemes.models import Territory
from tests import factories as f
from workflows import selectors as task_selectors

pytestmark = pytest.mark.django_db


def test_a_new_dossier_takes_the_territory_of_its_organisation(world):
    a, b = world.a, world.b
    case = services.case_create(actor=b.users["porteur"], data={"title": "Nouvelle halle"})
    assert case.territory_id == b.territory.pk
    assert case.referent_agent == b.users["agent"]  # picked among B's agents
    by_agent = services.case_create(
        actor=a.users["agent"], data={"title": "Voirie", "organisation": a.ids["organisation"]}
    )
    assert by_agent.territory_id == a.territory.pk
    # an agent of B cannot file for an organisation of A: it does not exist for B
    with pytest.raises(DomainError) as exc:
        services.case_create(
            actor=b.users["agent"],
            data={"title": "Intrusion", "organisation": a.ids["organisation"]},
        )
    assert "organisation" in exc.value.errors


def test_a_dossier_names_only_communes_of_its_territory(world):
    a, b = world.a, world.b
    porteur = b.users["porteur"]
    case = services.case_create(
        actor=porteur, data={"title": "Halle", "communes": [b.commune.insee]}
    )
    assert [c.insee for c in case.communes.all()] == [b.commune.insee]
    with pytest.raises(DomainError) as exc:
        services.case_create(
            actor=porteur, data={"title": "Halle voisine", "communes": [a.commune.insee]}
        )
    assert "communes" in exc.value.errors and a.commune.insee in exc.value.message
    before = Case.objects.count()
    client = APIClient()
    client.force_authenticate(porteur)
    response = client.patch(
        f"/api/v1/cases/{case.pk}/", {"communes": [a.commune.insee]}, format="json"
    )
    assert response.status_code == 400 and "communes" in response.data["errors"]
    assert [c.insee for c in case.communes.all()] == [b.commune.insee]
    assert Case.objects.count() == before


def test_the_territory_is_not_editable_through_the_api(world):
    a, b = world.a, world.b
    client = APIClient()
    client.force_authenticate(b.users["porteur"])
    response = client.patch(
        f"/api/v1/cases/{b.ids['draft']}/", {"territory": a.territory.pk}, format="json"
    )
    assert response.status_code in (200, 400)
    assert Case.objects.get(pk=b.ids["draft"]).territory_id == b.territory.pk


def test_a_new_organisation_takes_the_territory_of_its_commune_or_of_the_agent(world):
    a, b = world.a, world.b
    with_commune = services.organisation_create(
        actor=b.users["agent"],
        data={"name": "Comité des fêtes", "kind": "association", "commune": b.commune.insee},
    )
    assert with_commune.territory_id == b.territory.pk
    without = services.organisation_create(
        actor=b.users["agent"], data={"name": "SCIC du Viaur", "kind": "company"}
    )
    assert without.territory_id == b.territory.pk
    with pytest.raises(DomainError) as exc:  # a commune of A is unknown to B
        services.organisation_create(
            actor=b.users["agent"],
            data={"name": "Intrus", "kind": "association", "commune": a.commune.insee},
        )
    assert "commune" in exc.value.errors
    # a superuser of a two-territory installation must locate the organisation
    with pytest.raises(DomainError):
        services.organisation_create(actor=world.superuser, data={"name": "X", "kind": "company"})
    assert Organisation.objects.get(pk=a.ids["organisation"]).territory_id == a.territory.pk


def test_accounts_created_by_a_territory_administrator_belong_to_its_territory(world):
    a, b = world.a, world.b
    agent = services.user_create(
        actor=b.users["admin"],
        data={"username": "nouvel.agent", "role": "agent", "password": "motdepasse-solide-42"},
    )
    assert agent.territory_id == b.territory.pk
    with pytest.raises(DomainError):  # A's organisation is unknown to B's administrator
        services.user_create(
            actor=b.users["admin"],
            data={
                "username": "intrus",
                "role": "porteur",
                "password": "motdepasse-solide-42",
                "organisation": a.ids["organisation"],
            },
        )


def test_a_superuser_names_the_territory_of_a_staff_account(world):
    a, b = world.a, world.b
    client = APIClient()
    client.force_authenticate(world.superuser)

    def create(**data):
        body = {"password": "motdepasse-solide-42", "role": "agent", **data}
        return client.post("/api/v1/users/", body, format="json")

    response = create(username="agent.b", territory=b.territory.slug)
    assert response.status_code == 201, response.data
    assert response.data["territory"] == b.territory.slug
    assert User.objects.get(username="agent.b").territory_id == b.territory.pk
    # two territories: a staff account without one is refused, in French, and not created
    response = create(username="agent.nulle.part")
    assert response.status_code == 400 and "territory" in response.data["errors"]
    assert "Indiquez le territoire" in response.data["detail"]
    response = create(username="agent.inconnu", territory="nulle-part")
    assert response.status_code == 400 and "territory" in response.data["errors"]
    # an EPCI partner follows its EPCI; a contradicting territory is refused
    response = create(username="partenaire.a", role="epci_partner", epci=a.epci.siren)
    assert response.status_code == 201 and response.data["territory"] == a.territory.slug
    response = create(
        username="partenaire.faux",
        role="epci_partner",
        epci=a.epci.siren,
        territory=b.territory.slug,
    )
    assert response.status_code == 400 and "territory" in response.data["errors"]
    # a territory's administrator cannot place an account in another territory
    admin = APIClient()
    admin.force_authenticate(b.users["admin"])
    response = admin.post(
        "/api/v1/users/",
        {
            "username": "agent.chez.a",
            "password": "motdepasse-solide-42",
            "role": "agent",
            "territory": a.territory.slug,
        },
        format="json",
    )
    assert response.status_code == 400 and "territory" in response.data["errors"]
    assert not User.objects.filter(
        username__in=["agent.nulle.part", "agent.inconnu", "partenaire.faux", "agent.chez.a"]
    ).exists()
    # porteurs and funder instructors have no territory of their own
    response = create(username="maire.b", role="porteur", organisation=b.ids["organisation"])
    assert response.status_code == 201 and response.data["territory"] is None


def test_a_committee_session_is_its_territorys(world):
    a, b = world.a, world.b
    session = session_create(
        actor=b.users["agent"],
        date=dt.date(2026, 6, 1),
        members=[b.users["committee_member"].pk],
        scheme=f.scheme("LEADER"),
    )
    assert session.territory_id == b.territory.pk
    assert committee_size(session) == 1  # B's committee, not the installation's
    with pytest.raises(DomainError) as exc:  # a member of A's committee is not one of B's
        session_create(
            actor=b.users["agent"],
            date=dt.date(2026, 6, 2),
            members=[a.users["committee_member"].pk],
            scheme=f.scheme("LEADER"),
        )
    assert "members" in exc.value.errors
    with pytest.raises(DomainError):  # the superuser names the territory when there are two
        session_create(
            actor=world.superuser, date=dt.date(2026, 6, 3), members=[], scheme=f.scheme("LEADER")
        )
    named = session_create(
        actor=world.superuser,
        date=dt.date(2026, 6, 3),
        members=[],
        scheme=f.scheme("LEADER"),
        territory=a.territory,
    )
    assert named.territory_id == a.territory.pk


def _submit_draft(side) -> None:
    """The draft is deposited: its referent agent gets a task (declare it complete)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from engine.transitions import transition_apply

    porteur = side.users["porteur"]
    case = Case.objects.get(pk=side.ids["draft"])
    for code in f.scheme("DETR").required_document_codes():
        services.document_upload(
            actor=porteur,
            case=case,
            kind=code,
            upload=SimpleUploadedFile(f"{code}.pdf", b"%PDF-1.4\n%tenancy\n"),
        )
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": "2026-01-05"})


def test_agent_tasks_stay_in_their_territory(world):
    a, b = world.a, world.b
    for side in (a, b):
        _submit_draft(side)
    for side, other in ((a, b), (b, a)):
        for fn in (task_selectors.inbox, task_selectors.queue):
            case_ids = {int(t.process.artifact_object_id) for t in fn(side.users["agent"])}
            assert not case_ids & other.case_ids
        own = {int(t.process.artifact_object_id) for t in task_selectors.inbox(side.users["agent"])}
        assert own & side.case_ids  # the fixture gives each agent work
    for task in task_selectors.inbox(a.users["agent"]):
        from workflows.agent_tasks import task_assign

        with pytest.raises(DomainError) as exc:
            task_assign(task=task, actor=b.users["admin"])
        assert exc.value.code == "not_found"
        break


def test_escalations_go_to_the_director_of_the_dossiers_territory(world):
    a, b = world.a, world.b
    recipients = Recipients([a.ids["case"], b.ids["case"]])
    assert recipients.director(a.ids["case"]) == [a.users["director"].pk]
    assert recipients.director(b.ids["case"]) == [b.users["director"].pk]
    # a dossier without referent falls back on its territory's agents only
    Case.objects.filter(pk=b.ids["draft"]).update(referent_agent=None, epci=None)
    fallback = Recipients([b.ids["draft"]]).referent(b.ids["draft"])
    assert fallback == [b.users["agent"].pk]


def test_the_directors_digest_counts_its_territory(world):
    b = world.b
    lines_b = "\n".join(director_digest_lines(dt.date(2030, 1, 1), b.territory.pk))
    lines_all = Case.objects.count()
    assert "Dossiers" in lines_b
    total_b = sum(
        int(line.rsplit(":", 1)[1]) for line in lines_b.splitlines() if line.startswith("Dossiers")
    )
    assert total_b == Case.objects.filter(territory=b.territory).count() < lines_all


def test_the_admin_lists_only_the_staff_users_territory(world):
    a, b = world.a, world.b
    request = RequestFactory().get("/admin/")
    for model in (Case, Organisation):
        model_admin = admin_site._registry[model]
        request.user = b.users["admin"]
        rows = set(model_admin.get_queryset(request).values_list("territory_id", flat=True))
        assert rows == {b.territory.pk}, model
        request.user = world.superuser
        rows = set(model_admin.get_queryset(request).values_list("territory_id", flat=True))
        assert rows == {a.territory.pk, b.territory.pk}, model
    request.user = b.users["admin"]
    users = admin_site._registry[User].get_queryset(request)
    assert b.users["agent"] in users and a.users["agent"] not in users
    assert b.users["porteur"] in users and a.users["porteur"] not in users


def test_staff_without_a_territory_sees_nothing_once_there_are_two(world):
    Territory.objects.get(slug="segala-viaur")  # two territories
    stray = User.objects.create_user(username="sans.territoire", role=User.Role.AGENT)
    assert stray.territory_id is None
    client = APIClient()
    client.force_authenticate(stray)
    assert client.get("/api/v1/cases/").json()["count"] == 0
    assert client.get("/api/v1/organisations/").json()["count"] == 0
