"""Overlap signal: similar dossiers of the last three years (same theme, same or
neighbouring EPCI, similar title), visible to the user, same EPCI first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case
from cases.overlap import normalise_words, similar_cases
from schemes.models import EPCI, Commune
from tests import factories as f

pytestmark = pytest.mark.django_db


def porteur_in(index: int):
    epci = EPCI.objects.order_by("name")[index]
    commune = Commune.objects.filter(epci=epci).order_by("insee").first()
    return f.porteur(f.OrganisationFactory(commune=commune))


def dossier(porteur, title, theme="Éducation"):
    return services.case_create(actor=porteur, data={"title": title, "theme": theme})


def test_normalised_words_drop_accents_stop_words_and_plurals():
    assert normalise_words("Rénovation de l'École") == normalise_words("renovation des écoles")
    assert normalise_words("Rénovation de l’église") == {"renovation", "eglis"}
    assert normalise_words("Travaux d'aménagement de la commune") == set()


def test_similar_dossiers_found_unrelated_and_old_ones_ignored():
    here, there = porteur_in(0), porteur_in(1)
    agent = f.agent()
    case = dossier(here, "Rénovation énergétique de l'école primaire")
    same_epci = dossier(here, "Rénovation de l'école primaire et de la cantine")
    neighbour = dossier(there, "Rénovation énergétique des écoles")
    dossier(here, "Construction d'une salle des fêtes")  # unrelated title
    dossier(here, "Rénovation de la mairie")  # one common word only
    dossier(there, "Rénovation énergétique de l'école", theme="Culture")  # other theme
    old = dossier(there, "Rénovation énergétique de l'école primaire")
    Case.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3 * 365 + 30)
    )

    found = similar_cases(case, user=agent)
    assert [s.case.pk for s in found] == [same_epci.pk, neighbour.pk]  # same EPCI first
    assert found[0].same_epci and not found[1].same_epci
    assert "même EPCI" in found[0].reason and "école" in found[0].reason
    assert "EPCI voisin" in found[1].reason
    # symmetric enough: the neighbour sees the original dossier too
    assert case.pk in {s.case.pk for s in similar_cases(neighbour, user=agent)}


def test_overlap_only_shows_what_the_user_may_see():
    here, there = porteur_in(0), porteur_in(1)
    case = dossier(here, "Création d'une maison de santé pluriprofessionnelle", theme="Santé")
    theirs = dossier(there, "Maison de santé pluriprofessionnelle du bourg", theme="Santé")
    assert [s.case.pk for s in similar_cases(case, user=f.agent())] == [theirs.pk]
    assert similar_cases(case, user=here) == []  # a porteur never learns of another's dossier
    partner = f.UserFactory(role="epci_partner", epci=here.organisation.epci)
    assert similar_cases(case, user=partner) == []


def test_no_theme_no_signal():
    here = porteur_in(0)
    case = dossier(here, "Voirie communale", theme="")
    dossier(here, "Voirie communale", theme="")
    assert similar_cases(case, user=f.agent()) == []
