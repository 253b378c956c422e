"""The admin speaks French (issue 12, point 9): every registered model has a French
singular and plural written by hand, and the admin's pages say so."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.utils import translation

from cases.models import User

pytestmark = pytest.mark.django_db

OUR_APPS = {"cases", "schemes", "engine", "workflows", "notifications", "web"}
#: Words of the code's English that must never reach the admin's French.
ENGLISH = re.compile(
    r"\b(committee|decisions?|requests?|claims?|deadlines?|funders?|schemes?|payments?|"
    r"users?|access|outbox|events?|opinions?|lines?|orders?|expenses?|resources?|"
    r"sessions? of|substitutes?|declarations? of|groups?|tokens?|logs?|tasks?|processes)\b",
    re.IGNORECASE,
)

#: Class names that are French words too.
SAME_IN_FRENCH = {"document", "message", "vote", "commune", "organisation", "notification"}


def registered():
    return sorted(admin.site._registry, key=lambda m: (m._meta.app_label, m.__name__))


def auto_name(model) -> str:
    """The name Django makes up from the class name (« CommitteeDecision » →
    « committee decision »)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", model._meta.object_name).lower()


def test_every_registered_model_has_french_names():
    problems = []
    with translation.override("fr"):
        for model in registered():
            meta = model._meta
            singular, plural = str(meta.verbose_name), str(meta.verbose_name_plural)
            where = f"{meta.app_label}.{model.__name__}"
            if meta.app_label in OUR_APPS:
                # written by hand, both of them
                if not {"verbose_name", "verbose_name_plural"} <= set(meta.original_attrs):
                    problems.append(f"{where}: singular and plural not both set in Meta")
                # the class name made into words only where it is French already
                if singular == auto_name(model) and singular not in SAME_IN_FRENCH:
                    problems.append(f"{where}: « {singular} », the class name")
            for name in (singular, plural):
                if ENGLISH.search(name):
                    problems.append(f"{where}: English in « {name} »")
            # « demande de financements »: the plural Django makes by adding an « s »
            if " " in singular and plural == f"{singular}s":
                problems.append(f"{where}: plural « {plural} » made by adding an s")
    assert not problems, "\n".join(problems)


def test_the_names_the_issue_found_are_french():
    from cases.models import CommitteeDecision, CommitteeSession, FundingRequest, Opinion

    assert CommitteeDecision._meta.verbose_name_plural == "décisions du comité"
    assert Opinion._meta.verbose_name_plural == "avis"
    assert CommitteeSession._meta.verbose_name_plural == "séances du comité de programmation"
    assert FundingRequest._meta.verbose_name_plural == "demandes de financement"


def test_the_admin_index_is_in_french_for_a_superuser(client):
    boss = User.objects.create_superuser("patron", "patron@example.org", "Un-mot-de-passe-1")
    client.force_login(boss)
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert "Administration du Guichet unique" in html
    for label in (
        "Décisions du comité",
        "Avis",
        "Séances du comité de programmation",
        "Demandes de financement",
        "Demandes de paiement",
        "Échéances",
    ):
        assert f">{label}<" in html, label
    visible = re.sub(r"<[^>]+>", " ", html)
    for english in ("Committee decisions", "Opinions", "Site administration", "Recent actions"):
        assert english not in visible, english
    # a list page too: its title and its button speak French
    page = client.get("/admin/cases/committeedecision/")
    assert page.status_code == 200
    assert "décision du comité" in page.content.decode().lower()


def test_every_model_of_ours_has_french_names_even_unregistered():
    """The models the admin does not list (notifications, reminders, alerts, tokens…) are
    named in French too: the same names reach the history, errors and exports."""
    from django.apps import apps

    missing = [
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in OUR_APPS
        and not m._meta.auto_created
        and not {"verbose_name", "verbose_name_plural"} <= set(m._meta.original_attrs)
    ]
    assert not missing, missing
