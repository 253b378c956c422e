"""A first ProConnect login of an organisation Guichet does not know yet (issue 15 point 1):
its SIREN is checked with the public company register (the local server of
test_company_register, the register's documented answer), the organisation recorded from
the register's data when it is active and on a Guichet territory, then its porteur. Each
refusal in French, nothing created; the claims never give a role."""

# ruff: noqa: F811 - the register fixtures imported from test_company_register are arguments

from __future__ import annotations

import copy

import pytest

import tests.cases.test_company_register as register_test
from cases.models import Organisation, User
from cases.services.proconnect import (
    OFF_TERRITORY,
    REGISTER_SILENT_PASSWORD,
    proconnect_account,
)
from schemes.models import EPCI, Commune
from tests import factories as f
from tests.cases.test_company_register import (  # noqa: F401 (the fixtures)
    SIREN,
    SIRET_OTHER,
    SIRET_SIEGE,
    register,
    server,
)
from tests.cases.test_proconnect_accounts import claims, refused, siret_of

pytestmark = pytest.mark.django_db

FIGEAC = "46102"  # the commune of SIRET_OTHER in the register's answer


@pytest.fixture
def figeac():
    """The establishment's commune recorded in Guichet, in an EPCI of a territory."""
    epci = EPCI.objects.order_by("id").first()
    commune, _ = Commune.objects.get_or_create(
        insee=FIGEAC, defaults={"name": "Figeac", "population": 10000, "epci": epci}
    )
    return commune


@pytest.fixture
def answer(monkeypatch):
    """Change the register's answer for SIREN: ``answer(lambda result: ...)``."""

    def change(edit):
        original = register_test.register_answer

        def edited(q):
            data = copy.deepcopy(original(q))
            for result in data["results"]:
                edit(result)
            return data

        monkeypatch.setattr(register_test, "register_answer", edited)

    return change


def nothing_created(email):
    assert not User.objects.filter(email__iexact=email).exists()
    assert not Organisation.objects.filter(siren=SIREN).exists()


def test_an_active_company_on_the_territory_is_recorded_with_its_porteur(register, figeac):
    user = proconnect_account(
        claims=claims("Agent@Numerique.gouv.fr", SIRET_OTHER, given_name="Léa", role="admin")
    )
    organisation = user.organisation
    assert (organisation.siren, organisation.name) == (
        SIREN,
        "DIRECTION INTERMINISTERIELLE DU NUMERIQUE",
    )
    assert organisation.kind == Organisation.Kind.PUBLIC_BODY  # kind_of("7120")
    assert organisation.commune == figeac
    assert organisation.territory_id == figeac.epci.territory_id
    assert (user.role, user.is_staff, user.is_superuser) == (User.Role.PORTEUR, False, False)
    assert (user.email, user.first_name) == ("Agent@Numerique.gouv.fr", "Léa")
    assert not user.has_usable_password()
    # the next login (and a colleague's) finds the organisation without the register
    register.hits.clear()
    assert proconnect_account(claims=claims("agent@numerique.gouv.fr", SIRET_OTHER)) == user
    colleague = proconnect_account(claims=claims("autre@numerique.gouv.fr", SIRET_SIEGE))
    assert colleague.organisation == organisation
    assert register.hits == []


def test_a_commune_off_guichets_territories_is_refused(register, figeac):
    # the head office (SIRET_SIEGE) is in Paris, not in any EPCI of Guichet
    assert refused(claims("a@numerique.gouv.fr", SIRET_SIEGE)) == OFF_TERRITORY
    nothing_created("a@numerique.gouv.fr")


def test_a_closed_company_is_refused(register, figeac, answer):
    answer(lambda result: result.update(etat_administratif="C"))
    message = refused(claims("a@numerique.gouv.fr", SIRET_OTHER))
    assert "cessée" in message and SIREN in message
    nothing_created("a@numerique.gouv.fr")


def test_a_closed_establishment_is_refused(register, figeac, answer):
    answer(lambda result: result["matching_etablissements"][0].update(etat_administratif="F"))
    message = refused(claims("a@numerique.gouv.fr", SIRET_OTHER))
    assert "fermé" in message and SIRET_OTHER in message
    nothing_created("a@numerique.gouv.fr")


def test_a_number_the_register_does_not_know_is_refused(register):
    siren = f.make_siren(4242)
    message = refused(claims("x@inconnue.fr", siret_of(siren)))
    assert siren in message and "ne la connaît pas" in message
    assert not User.objects.filter(email="x@inconnue.fr").exists()
    assert not Organisation.objects.filter(siren=siren).exists()


@pytest.mark.parametrize("mode", ["slow", "error", "garbage"])
def test_a_silent_register_gives_the_manual_path(register, figeac, mode, settings):
    register.mode = mode
    message = refused(claims("a@numerique.gouv.fr", SIRET_OTHER))
    assert "ne peut pas la vérifier" in message and "Demandez au PETR" in message
    assert message.endswith(REGISTER_SILENT_PASSWORD)
    nothing_created("a@numerique.gouv.fr")
    settings.GUICHET_PASSWORD_LOGIN_ENABLED = False
    assert "mot de passe" not in refused(claims("a@numerique.gouv.fr", SIRET_OTHER))
    # once the register answers, the same login goes through (nothing was cached)
    register.mode = "ok"
    assert proconnect_account(claims=claims("a@numerique.gouv.fr", SIRET_OTHER)).pk


def test_a_register_turned_off_gives_the_manual_path(figeac, settings):
    settings.GUICHET_COMPANY_REGISTER_URL = ""
    message = refused(claims("a@numerique.gouv.fr", SIRET_OTHER))
    assert "ne peut pas la vérifier" in message
    nothing_created("a@numerique.gouv.fr")


def test_known_accounts_and_organisations_never_ask_the_register(register):
    porteur = f.porteur(email="p@asso.fr")
    organisation = f.OrganisationFactory()
    assert proconnect_account(claims=claims("p@asso.fr", siret_of(porteur.organisation.siren)))
    assert proconnect_account(claims=claims("new@asso.fr", siret_of(organisation.siren)))
    f.agent(email="agent@petr.fr")
    assert proconnect_account(claims=claims("agent@petr.fr", SIRET_OTHER))
    assert register.hits == []
