"""Who logs in with ProConnect, and as what (cases.services.proconnect, docs/adr/012):
accounts found by e-mail and checked against the SIRET, a porteur's account created on a
first login only for an organisation Guichet knows, roles never taken from the claims."""

from __future__ import annotations

import pytest

from cases.models import User
from cases.services.proconnect import proconnect_account, reference_siren
from cases.siren import siret_valid
from engine.errors import DomainError
from schemes.models import Funder, Territory
from tests import factories as f

pytestmark = pytest.mark.django_db


def siret_of(siren: str, start: int = 10) -> str:
    """A valid SIRET of the organisation ``siren`` (an establishment number with its key)."""
    for nic in range(start, 99999):
        siret = f"{siren}{nic:05d}"
        if siret_valid(siret):
            return siret
    raise AssertionError("unreachable")


def claims(email, siret="", **extra):
    return {"sub": "x", "email": email, "siret": siret, **extra}


def refused(claims_) -> str:
    with pytest.raises(DomainError) as caught:
        proconnect_account(claims=claims_)
    assert caught.value.code == "forbidden"
    return caught.value.message


def test_an_existing_porteur_is_found_by_email_whatever_its_case():
    user = f.porteur(email="Maire@Commune.fr")
    siret = siret_of(user.organisation.siren)
    assert proconnect_account(claims=claims("maire@commune.FR", siret)) == user


def test_the_names_fill_an_empty_account_but_never_overwrite_it():
    user = f.porteur(email="a@b.fr", first_name="", last_name="Durand")
    siret = siret_of(user.organisation.siren)
    proconnect_account(claims=claims("a@b.fr", siret, given_name="Anne", usual_name="Martin"))
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Anne", "Durand")


def test_a_porteur_from_another_organisation_is_refused():
    user = f.porteur(email="a@b.fr")
    other = f.OrganisationFactory()
    message = refused(claims("a@b.fr", siret_of(other.siren)))
    assert user.organisation.siren in message and "n'appartient pas" in message


def test_a_porteur_without_siret_is_refused_when_its_organisation_has_a_siren():
    f.porteur(email="a@b.fr")
    assert "SIRET non transmis" in refused(claims("a@b.fr", ""))


def test_the_claims_never_change_the_role_nor_the_organisation():
    agent = f.agent(email="agent@petr.fr")
    organisation = f.OrganisationFactory()
    user = proconnect_account(
        claims=claims("agent@petr.fr", siret_of(organisation.siren), role="admin")
    )
    user.refresh_from_db()
    assert user == agent
    assert (user.role, user.organisation_id, user.is_superuser) == (User.Role.AGENT, None, False)


def test_an_agent_is_checked_against_the_siren_of_its_petr_when_known():
    territory = Territory.objects.get(pk=Territory.sole_id() or Territory.objects.first().pk)
    territory.siren = f.make_siren(7)
    territory.save()
    agent = f.agent(email="agent@petr.fr", territory=territory)
    assert reference_siren(agent) == territory.siren
    assert proconnect_account(claims=claims("agent@petr.fr", siret_of(territory.siren))) == agent
    other = f.make_siren(8)
    assert territory.siren in refused(claims("agent@petr.fr", siret_of(other)))


def test_a_funder_instructor_is_checked_against_its_funders_siren():
    funder = Funder.objects.first()
    funder.siret = siret_of(f.make_siren(9))
    funder.save()
    instructor = f.UserFactory(
        role=User.Role.FUNDER_INSTRUCTOR, funder=funder, email="instr@region.fr"
    )
    assert proconnect_account(claims=claims("instr@region.fr", siret_of(funder.siret[:9], 500)))
    assert reference_siren(instructor) == funder.siret[:9]
    refused(claims("instr@region.fr", siret_of(f.make_siren(10))))


def test_first_login_creates_a_porteur_of_the_known_organisation():
    organisation = f.OrganisationFactory()
    siret = siret_of(organisation.siren)
    user = proconnect_account(
        claims=claims("New@Asso.fr", siret, given_name="Léa", usual_name="Roux")
    )
    assert user.pk and user.role == User.Role.PORTEUR
    assert user.organisation == organisation
    assert (user.email, user.first_name, user.last_name) == ("New@Asso.fr", "Léa", "Roux")
    assert user.username == "new@asso.fr"
    assert not user.has_usable_password()
    # the second login finds the same account
    assert proconnect_account(claims=claims("new@asso.fr", siret)) == user


def test_first_login_of_an_unknown_organisation_creates_nothing():
    siren = f.make_siren(4242)
    message = refused(claims("x@inconnue.fr", siret_of(siren)))
    assert siren in message and "n'est pas encore connue" in message
    assert not User.objects.filter(email="x@inconnue.fr").exists()


@pytest.mark.parametrize(
    "siret",
    ["", "123", "12345678901234", "１２３４５６７８９０１２３４", "²" * 14, None, 12],
)
def test_first_login_without_a_valid_siret_creates_nothing(siret):
    refused(claims("x@y.fr", siret))
    assert not User.objects.filter(email="x@y.fr").exists()


@pytest.mark.parametrize("email", ["", None, "pas-une-adresse", "a" * 250 + "@b.fr"])
def test_no_usable_email_is_refused(email):
    organisation = f.OrganisationFactory()
    refused(claims(email, siret_of(organisation.siren)))


def test_two_accounts_with_the_same_email_are_refused():
    f.agent(email="double@petr.fr")
    f.agent(email="DOUBLE@petr.fr")
    assert "Plusieurs comptes" in refused(claims("double@petr.fr"))


def test_an_inactive_account_is_refused():
    f.agent(email="parti@petr.fr", is_active=False)
    assert "désactivé" in refused(claims("parti@petr.fr"))


def test_a_username_already_taken_gets_a_suffix():
    f.agent(username="new@asso.fr", email="someone@else.fr")
    organisation = f.OrganisationFactory()
    user = proconnect_account(claims=claims("new@asso.fr", siret_of(organisation.siren)))
    assert user.username == "new@asso.fr-2"
