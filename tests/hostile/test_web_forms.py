"""Every form of the web pages, fuzzed field by field (hypothesis): each POST route of
``web.urls`` — the porteur's wizard ``/deposer/`` and its steps, the porteur's follow-up
page, the agent's dossier page and its actions, the funders' page, the committee pages,
login — is sent as the role that uses it, on a real object, with one field made hostile
at a time (huge exponents, Unicode digits, « 1_000 », booleans, 200 levels of nesting as
text, a megabyte, NUL, years 1 and 9999, ids beyond a bigint…), a field dropped, an
unknown field added, a list field given a hostile item, a hostile id in the path.

Whatever the input: never a 5xx; every answer within ``BOUND`` seconds; an answer that
is not a redirect (the form shown again with its French errors, a 400, 403, 404 or 409
page) leaves every row of the database as it was; an accepted form stores no absurd
value. The query strings of the GET pages (filters, pagination) are fuzzed the same way.

The routes come from the URL conf: a new page without an entry in ``POSTS`` or ``GETS``
fails ``test_every_web_route_has_a_form_generator``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import services
from cases.models import (
    Case,
    CommitteeSession,
    Extension,
    FundingRequest,
    PaymentClaim,
    RecoveryOrder,
)
from cases.services.documents import message_post
from cases.services.experts import expert_invite
from engine.transitions import registration_for
from workflows import selectors as task_selectors

from .bench import GOOD_SCORES, Bench, pdf
from .harness import BOUND, EXAMPLES, Rollback, timed
from .snapshots import changes, everything, insane_values
from .test_api_write_routes import TODAY, TRANSITIONS, Move
from .values import TEXT_KILLERS, hostile_text

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=max(5, EXAMPLES * 2 // 3),  # a page costs more than an API call
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
FILE = object()  # stands for an uploaded PDF in a form


@dataclass
class Form:
    """One form: who posts it, where, with which well-formed fields (a list for a field
    with several values, ``FILE`` for an upload)."""

    actor: str
    url: Callable[[Bench], str]
    fields: Callable[[Bench], dict]
    #: The answers that mean « accepted » (may write); any other must leave the rows as
    #: they were. The autosave and the expert's page answer an accepted post with a 200.
    accepted: tuple[int, ...] = (301, 302, 303)


def _u(template: str, attr: str | None = None) -> Callable[[Bench], str]:
    if attr is None:
        return lambda b: template
    return lambda b: template.format(pk=getattr(b, attr).pk)


def _task(b: Bench) -> str:
    task = task_selectors.case_tasks(b.submitted).first()
    return f"/agent/taches/{task.pk}/prendre/"


def _plan_form(b: Bench) -> dict:
    return {
        "dep-TOTAL_FORMS": "1",
        "dep-INITIAL_FORMS": "0",
        "dep-MIN_NUM_FORMS": "0",
        "dep-MAX_NUM_FORMS": "100",
        "dep-0-label": "Travaux",
        "dep-0-amount": "100 000,00",
        "dep-0-tax": "HT",
        "dep-0-eligible": "on",
        "res-TOTAL_FORMS": "2",
        "res-INITIAL_FORMS": "0",
        "res-MIN_NUM_FORMS": "0",
        "res-MAX_NUM_FORMS": "100",
        "res-0-source": "scheme:DETR",
        "res-0-label": "",
        "res-0-amount": "40 000,00",
        "res-1-source": "self",
        "res-1-label": "Fonds propres",
        "res-1-amount": "60000.00",
        "action": "save",
    }


def _project(b: Bench) -> dict:
    return {
        "title": "Maison de santé",
        "description": "Regrouper les soignants.",
        "theme": "sante",
        "communes": [b.organisation.commune.insee],
        "action": "save",
    }


def _vote(b: Bench) -> dict:
    b.session  # noqa: B018 - plans the session, whose agenda holds ``agenda_request``
    return {
        "funding_request": str(b.agenda_request.pk),
        "vote": "for",
        **{f"score_{code}": str(points) for code, points in GOOD_SCORES.items()},
        "member": "",
    }


def _open_correction(b: Bench):
    """An open request to correct the title of an incomplete dossier (issue 12)."""
    if "_correction" not in vars(b):
        b._correction = services.correction_request(
            actor=b.agent, case=b.incomplete, kind="field", target="title", body="Plus précis."
        )
    return b._correction


def _call(b: Bench):
    """An open call for projects of the territory (issue 14 point 5)."""
    if "_call_for_projects" not in vars(b):
        from schemes.models import Call, Scheme, Territory

        b._call_for_projects = Call.objects.create(
            scheme=Scheme.objects.get(code="LEADER"),
            territory_id=Territory.sole_id(),
            title="Tiers-lieux",
            opens_on=b.today,
            closes_on=b.today.replace(year=b.today.year + 1),
        )
    return b._call_for_projects


def _scenario(b: Bench):
    """A programming scenario of the year of ``b.instructing`` (issue 14 point 3)."""
    if "_scenario" not in vars(b):
        from cases.envelopes import programming_year
        from cases.services.scenarios import scenario_create

        year = FundingRequest.objects.annotate(y=programming_year()).get(pk=b.instructing.pk).y
        b._scenario = scenario_create(actor=b.agent, title="Programmation", year=year)
    return b._scenario


def _scenario_rows(b: Bench) -> dict:
    pk = b.instructing.pk
    return {
        "request": [str(pk)],
        f"choice-{pk}": "fund",
        f"amount-{pk}": "30 000,00",
        f"motivation-{pk}": "",
    }


def _conference(b: Bench):
    """A funders' conference session with the instructing dossier on its agenda (issue 14
    point 6)."""
    if "_conference_session" not in vars(b):
        from cases.services import conference

        session = conference.session_create(
            actor=b.agent,
            date=b.today,
            title="Conférence des financeurs",
            funder_ids=[b.instructing.scheme.funder_id],
        )
        conference.agenda_add(actor=b.agent, session=session, case_id=b.instructing.case_id)
        b._conference_session = session
    return b._conference_session


def _conference_url(tail: str = "") -> Callable[[Bench], str]:
    return lambda b: f"/programmation/conferences/{_conference(b).pk}/{tail}"


def _conference_fields(b: Bench) -> dict:
    return {
        "date": "15/01/2027",
        "title": "Conférence de janvier",
        "place": "PETR",
        "funders": [str(b.instructing.scheme.funder_id)],
        "notes": "Tour de table.",
    }


def _new_call(b: Bench) -> dict:
    return {
        "scheme": "DETR",
        "title": "Écoles sobres",
        "description": "Critères.",
        "opens_on": "2026-12-15",
        "closes_on": "15/03/2027",
        "envelope": "300 000,00",
        "selection": "ranking",
    }


def _expert_token(b: Bench) -> str:
    """The clear token of an invitation to give an opinion on the submitted dossier."""
    if "_token" not in vars(b):
        _invitation, b._token = expert_invite(
            actor=b.agent,
            case=b.submitted,
            name="Jeanne Expert",
            email="jeanne@exemple.fr",
            question="Le projet est-il mûr ?",
        )
    return b._token


def _attachment(b: Bench):
    """A PDF attached by the porteur to a message on the submitted dossier."""
    if "_attachment" not in vars(b):
        message = message_post(
            actor=b.porteur, case=b.submitted, body="Le devis.", attachments=[pdf("devis.pdf")]
        )
        b._attachment = message.attachments.get()
    return b._attachment


def _grid_votes(b: Bench) -> dict:
    b.session  # noqa: B018 - plans the session, whose agenda holds ``agenda_request``
    member = b.members[0].pk
    return {
        "funding_request": str(b.agenda_request.pk),
        "member": [str(member)],
        f"vote-{member}": "for",
        **{f"score-{member}-{code}": str(points) for code, points in GOOD_SCORES.items()},
        f"previous-{member}": "",
    }


def _bulk(b: Bench) -> dict:
    fr = b.instructing
    return {
        "source": "demandes",
        "ids": [str(fr.pk)],
        "action": "grant",
        "etape": "verifier",  # the check before applying: nothing is written
        "montants": f"{fr.pk} ; 30 000,00",
        "date": TODAY,
        "comment": "Comité du 2 mars.",
    }


# route of web.urls → the form posted there. Transition routes are built from the API's
# TRANSITIONS (one form per transition a user applies from a page).
POSTS: dict[str, Form] = {
    "connexion/": Form(
        "anonymous",
        _u("/connexion/"),
        lambda b: {"username": b.porteur.username, "password": "motdepasse-solide-42"},
    ),
    "deconnexion/": Form("porteur", _u("/deconnexion/"), lambda b: {"next": "/"}),
    "agent/taches/<int:task_id>/prendre/": Form("agent", _task, lambda b: {"next": "/agent/"}),
    "dossiers/<int:pk>/avis/": Form(
        "agent",
        _u("/dossiers/{pk}/avis/", "submitted"),
        lambda b: {"kind": "opportunity", "value": "favourable", "text": "Projet mûr."},
    ),
    "dossiers/<int:pk>/notes/": Form(
        "agent", _u("/dossiers/{pk}/notes/", "submitted"), lambda b: {"body": "À relancer."}
    ),
    "dossiers/<int:pk>/messages/": Form(
        "agent", _u("/dossiers/{pk}/messages/", "submitted"), lambda b: {"body": "Bonjour."}
    ),
    "dossiers/<int:pk>/derogation/": Form(
        "agent",
        _u("/dossiers/{pk}/derogation/", "submitted"),
        lambda b: {"reason": "CGCT L1111-10 III : patrimoine protégé."},
    ),
    "mes-dossiers/<int:pk>/message/": Form(
        "porteur", _u("/mes-dossiers/{pk}/message/", "submitted"), lambda b: {"body": "Merci."}
    ),
    "mes-dossiers/<int:pk>/pieces/": Form(
        "porteur",
        _u("/mes-dossiers/{pk}/pieces/", "submitted"),
        lambda b: {"kind": "other", "label": "Devis", "file": FILE},
    ),
    "mes-dossiers/<int:pk>/paiement/": Form(
        "porteur",
        lambda b: f"/mes-dossiers/{b.committed.case_id}/paiement/",
        lambda b: {
            "funding_request": str(b.committed.pk),
            "kind": "installment",
            "amount": "1 000,00",
            "filed_on": TODAY,
            "action": "file",
        },
    ),
    "deposer/": Form("porteur", _u("/deposer/"), _project),
    # revised rules 5 and 6: extensions asked from the pages, recovery orders issued there
    "mes-dossiers/<int:pk>/prorogation/": Form(
        "porteur",
        lambda b: f"/mes-dossiers/{b.granted.case_id}/prorogation/",
        lambda b: {
            "target": f"{b.granted.pk}:works_start",
            "until": "2028-09-01",
            "reason": "Appel d'offres infructueux.",
        },
    ),
    "dossiers/<int:pk>/prorogations/": Form(
        "agent",
        lambda b: f"/dossiers/{b.granted.case_id}/prorogations/",
        lambda b: {
            "target": f"{b.granted.pk}:works_start",
            "until": "01/09/2028",
            "reason": "Demande du maire.",
        },
    ),
    "demandes/<int:pk>/reversements/": Form(
        "instructor",
        lambda b: f"/demandes/{b.overpaid.pk}/reversements/",
        lambda b: {"amount": "1 000,00", "date": TODAY, "reason": "Trop-perçu.", "from": "funders"},
    ),
    "comite/seances/nouvelle/": Form(
        "agent",
        _u("/comite/seances/nouvelle/"),
        lambda b: {
            "date": "15/12/2026",
            "scheme": "LEADER",
            "members": [str(m.pk) for m in b.members],
        },
    ),
    "comite/seances/<int:pk>/votes/": Form(
        "member", _u("/comite/seances/{pk}/votes/", "session"), _vote
    ),
    "comite/seances/<int:pk>/conflits/": Form(
        "member",
        _u("/comite/seances/{pk}/conflits/", "session"),
        lambda b: {
            "funding_request": str((b.session, b.agenda_request)[1].pk),
            "member": "",
            "reason": "Élu de la commune porteuse.",
        },
    ),
    "comite/suppleants/": Form(
        "agent",
        _u("/comite/suppleants/"),
        lambda b: {"titular": str(b.members[1].pk), "substitute": str(b.members[2].pk)},
    ),
    "comite/seances/<int:pk>/cloture/": Form(
        "agent", _u("/comite/seances/{pk}/cloture/", "session"), lambda b: {"comment": "Fin."}
    ),
    # issue 12: the committee grid, the bulk page, corrections, experts, notifications
    "comite/seances/<int:pk>/grille/votes/": Form(
        "agent", _u("/comite/seances/{pk}/grille/votes/", "session"), _grid_votes
    ),
    "comite/seances/<int:pk>/grille/presences/": Form(
        "agent",
        _u("/comite/seances/{pk}/grille/presences/", "session"),
        lambda b: {
            "member": [str(m.pk) for m in b.members],
            "present": [str(m.pk) for m in b.members[:2]],
        },
    ),
    "appels-a-projets/": Form("agent", _u("/appels-a-projets/"), _new_call),
    # issue 14 point 6: the funders' conference
    "programmation/conferences/": Form(
        "agent", _u("/programmation/conferences/"), _conference_fields
    ),
    "programmation/conferences/<int:pk>/seance/": Form(
        "agent", _conference_url("seance/"), _conference_fields
    ),
    "programmation/conferences/<int:pk>/ordre-du-jour/": Form(
        "agent",
        _conference_url("ordre-du-jour/"),
        lambda b: {"case": str(b.leader_instructing.case_id)},
    ),
    "programmation/conferences/<int:pk>/ordre-du-jour/<int:item_pk>/retirer/": Form(
        "agent",
        lambda b: (
            f"/programmation/conferences/{_conference(b).pk}/ordre-du-jour/"
            f"{_conference(b).items.get().pk}/retirer/"
        ),
        lambda b: {},
    ),
    "programmation/conferences/<int:pk>/positions/": Form(
        "agent",
        _conference_url("positions/"),
        lambda b: {
            "funding_request": str(b.instructing.pk),
            "stance": "fund",
            "amount": "1 000,00",
            "comment": "Accord de principe.",
        },
    ),
    "traitement-groupe/": Form("instructor", _u("/traitement-groupe/"), _bulk),
    # issue 13: the porteur's treasury declaration
    "ma-tresorerie/": Form(
        "porteur",
        _u("/ma-tresorerie/"),
        lambda b: {
            "formulaire": "organisation",
            "org-cash_at_hand": "12 000,00",
            "org-cash_limit": "5 000,00",
            "org-money_needed_by": TODAY,
            "org-fctva_regime": "2",
        },
    ),
    "dossiers/<int:pk>/etapes/<slug:step>/brouillon/": Form(
        "porteur", _u("/dossiers/{pk}/etapes/plan/brouillon/", "draft"), _plan_form, (200,)
    ),
    "dossiers/<int:pk>/corrections/": Form(
        "agent",
        _u("/dossiers/{pk}/corrections/", "incomplete"),
        lambda b: {"target": "field:description", "body": "Précisez le calendrier."},
    ),
    "dossiers/<int:pk>/corrections/<int:cid>/fermer/": Form(
        "agent",
        lambda b: f"/dossiers/{b.incomplete.pk}/corrections/{_open_correction(b).pk}/fermer/",
        lambda b: {},
    ),
    "mes-dossiers/<int:pk>/corrections/<int:cid>/": Form(
        "porteur",
        lambda b: f"/mes-dossiers/{b.incomplete.pk}/corrections/{_open_correction(b).pk}/",
        lambda b: {"value": "Salle des fêtes de Saint-Martin"},
    ),
    "dossiers/<int:pk>/experts/inviter/": Form(
        "agent",
        _u("/dossiers/{pk}/experts/inviter/", "submitted"),
        lambda b: {
            "name": "Jeanne Expert",
            "email": "jeanne@exemple.fr",
            "question": "Le projet est-il mûr ?",
        },
    ),
    "avis-expert/<str:token>/": Form(
        "anonymous",
        lambda b: f"/avis-expert/{_expert_token(b)}/",
        lambda b: {"answer": "Projet solide.", "answer_value": "favourable"},
        (200,),
    ),
    "notifications/<int:pk>/lue/": Form(
        "porteur", _u("/notifications/{pk}/lue/", "notification"), lambda b: {"page": "2"}
    ),
    "notifications/tout-lu/": Form(
        "porteur",
        lambda b: (b.notification, "/notifications/tout-lu/")[1],
        lambda b: {"page": "1"},
    ),
    # issue 14: programming scenarios
    "programmation/scenarios/": Form(
        "agent",
        _u("/programmation/scenarios/"),
        lambda b: {"title": "Programmation 2026", "year": "2026", "note": "Variante A."},
    ),
    "programmation/scenarios/<int:pk>/": Form(
        "agent", lambda b: f"/programmation/scenarios/{_scenario(b).pk}/", _scenario_rows
    ),
    "programmation/scenarios/<int:pk>/appliquer/": Form(
        "agent", lambda b: f"/programmation/scenarios/{_scenario(b).pk}/appliquer/", lambda b: {}
    ),
    # issue 15 point 3: a scanned signed copy (the bench's PDF has no QR code: refused)
    "conventions/copies-signees/": Form(
        "agent", _u("/conventions/copies-signees/"), lambda b: {"file": FILE}
    ),
}
#: The wizard's steps (one route, ``<slug:step>``).
STEPS: dict[str, Callable[[Bench], dict]] = {
    "projet": _project,
    "plan": _plan_form,
    "dispositifs": lambda b: {"use_DETR": "on", "amount_DETR": "40 000,00", "action": "next"},
    "pieces": lambda b: {"kind": "devis", "label": "Devis", "file": FILE},
    "recapitulatif": lambda b: {"action": "submit"},
}
STEP_ROUTE = "dossiers/<int:pk>/etapes/<slug:step>/"
#: Staff transition routes (``<slug:name>``), by the model they act on.
STAFF_TRANSITIONS = {
    "dossiers/<int:pk>/transitions/<slug:name>/": (Case, "dossiers"),
    "demandes/<int:pk>/transitions/<slug:name>/": (FundingRequest, "demandes"),
    "paiements/<int:pk>/transitions/<slug:name>/": (PaymentClaim, "paiements"),
    "prorogations/<int:pk>/transitions/<slug:name>/": (Extension, "prorogations"),
    "reversements/<int:pk>/transitions/<slug:name>/": (RecoveryOrder, "reversements"),
}
PORTEUR_ACTION = "mes-dossiers/<int:pk>/action/"
#: Pages read with GET only, and the query parameters each one reads.
GETS: dict[str, tuple[str, Callable[[Bench], str], tuple[str, ...]]] = {
    "": ("porteur", _u("/"), ()),
    "agent/": (
        "agent",
        _u("/agent/"),
        ("q", "epci", "scheme", "theme", "state", "overdue", "page", "taches", "file"),
    ),
    "dossiers/<int:pk>/": ("agent", _u("/dossiers/{pk}/", "submitted"), ()),
    "mes-dossiers/": ("porteur", _u("/mes-dossiers/"), ()),
    "mes-dossiers/<int:pk>/": ("porteur", _u("/mes-dossiers/{pk}/", "submitted"), ()),
    "dossiers/<int:pk>/accuse-reception.pdf": (
        "porteur",
        _u("/dossiers/{pk}/accuse-reception.pdf", "submitted"),
        (),
    ),
    "dossiers/<int:pk>/demandes/<int:request_pk>/accuse-reception.pdf": (
        "porteur",
        lambda b: (
            f"/dossiers/{b.acknowledged.case_id}/demandes/{b.acknowledged.pk}/accuse-reception.pdf"
        ),
        (),
    ),
    "pieces/<int:pk>/telecharger/": (
        "porteur",
        lambda b: f"/pieces/{b.submitted.documents.first().pk}/telecharger/",
        (),
    ),
    "financeurs/": ("agent", _u("/financeurs/"), ("financeur",)),
    "comite/": ("agent", _u("/comite/"), ()),
    "comite/seances/<int:pk>/": ("agent", _u("/comite/seances/{pk}/", "session"), ()),
    "comite/seances/<int:pk>/proces-verbal.pdf": (
        "agent",
        _u("/comite/seances/{pk}/proces-verbal.pdf", "session"),
        (),
    ),
    "transparence/": ("anonymous", _u("/transparence/"), ("territoire", "dispositif", "page")),
    "t/<slug:slug>/transparence/": (
        "anonymous",
        _u("/t/inconnu/transparence/"),
        ("dispositif", "page"),
    ),
    "transparence/comite/<int:pk>/proces-verbal.pdf": (
        "anonymous",
        _u("/transparence/comite/{pk}/proces-verbal.pdf", "session"),
        (),
    ),
    "observatoire/": ("agent", _u("/observatoire/"), ("epci", "theme", "scheme", "year")),
    "observatoire/export/maquette-financiere.xlsx": (
        "agent",
        _u("/observatoire/export/maquette-financiere.xlsx"),
        ("epci", "theme", "scheme", "year"),
    ),
    "observatoire/export/maquette-financiere.ods": (
        "agent",
        _u("/observatoire/export/maquette-financiere.ods"),
        ("epci", "theme", "scheme", "year"),
    ),
    "observatoire/export/subventions-etalab.csv": (
        "agent",
        _u("/observatoire/export/subventions-etalab.csv"),
        ("epci", "theme", "scheme", "year"),
    ),
    "observatoire/export/<slug:slug>.<str:fmt>": (
        "agent",
        _u("/observatoire/export/dossiers-par-etat.csv"),
        ("epci", "theme", "scheme", "year"),
    ),
    STEP_ROUTE: ("porteur", _u("/dossiers/{pk}/etapes/plan/", "draft"), ("depenses", "ressources")),
    "deposer/": ("porteur", _u("/deposer/"), ()),
    "comite/seances/nouvelle/": ("agent", _u("/comite/seances/nouvelle/"), ()),
    "connexion/": ("anonymous", _u("/connexion/"), ("next",)),
    # issue 15 point 1: ProConnect (off in the tests: 404, whatever the query)
    "connexion/proconnect/": ("anonymous", _u("/connexion/proconnect/"), ("next",)),
    "connexion/proconnect/retour/": (
        "anonymous",
        _u("/connexion/proconnect/retour/"),
        ("code", "state", "error"),
    ),
    # issue 13: the forecasts, their PDF, the territory's ranking
    # (the PDFs read « taux » through the page's reader, fuzzed on the page: a PDF per
    # example would outlast the time bound on a loaded machine)
    "ma-tresorerie/pret-relais.pdf": ("porteur", _u("/ma-tresorerie/pret-relais.pdf"), ()),
    "organisations/<int:pk>/tresorerie/": (
        "agent",
        lambda b: f"/organisations/{b.porteur.organisation_id}/tresorerie/",
        ("taux",),
    ),
    "organisations/<int:pk>/tresorerie/pret-relais.pdf": (
        "agent",
        lambda b: f"/organisations/{b.porteur.organisation_id}/tresorerie/pret-relais.pdf",
        (),
    ),
    "tresorerie/": ("agent", _u("/tresorerie/"), ()),
    # issue 14
    "revue-des-projets/": ("agent", _u("/revue-des-projets/"), ("epci",)),
    "programmation/": ("agent", _u("/programmation/"), ("annee", "financeur", "epci", "page")),
    "programmation/maquette.xlsx": (
        "agent",
        _u("/programmation/maquette.xlsx"),
        ("annee", "financeur", "epci"),
    ),
    "programmation/maquette.ods": (
        "agent",
        _u("/programmation/maquette.ods"),
        ("annee", "financeur", "epci"),
    ),
    "programmation/scenarios/comparer/": (
        "agent",
        _u("/programmation/scenarios/comparer/"),
        ("s",),
    ),
    "programmation/scenarios/<int:pk>/tresorerie/": (
        "agent",
        lambda b: f"/programmation/scenarios/{_scenario(b).pk}/tresorerie/",
        (),
    ),
    "appels-a-projets/": ("agent", _u("/appels-a-projets/"), ()),
    "programmation/conferences/": ("agent", _u("/programmation/conferences/"), ()),
    "programmation/conferences/<int:pk>/": ("agent", _conference_url(), ()),
    "programmation/conferences/<int:pk>/releve.pdf": ("agent", _conference_url("releve.pdf"), ()),
    "appels-a-projets/<int:pk>/": ("agent", lambda b: f"/appels-a-projets/{_call(b).pk}/", ()),
    # issue 12
    "comite/seances/<int:pk>/grille/": ("agent", _u("/comite/seances/{pk}/grille/", "session"), ()),
    "notifications/": (
        "porteur",
        lambda b: (b.notification, "/notifications/")[1],
        ("page",),
    ),
    "dossiers/<int:pk>/dossier.pdf": ("porteur", _u("/dossiers/{pk}/dossier.pdf", "submitted"), ()),
    "dossiers/<int:pk>/demandes/<int:request_pk>/decision.pdf": (
        "porteur",
        lambda b: f"/dossiers/{b.granted.case_id}/demandes/{b.granted.pk}/decision.pdf",
        (),
    ),
    "pieces-jointes/<int:pk>/telecharger/": (
        "agent",
        lambda b: f"/pieces-jointes/{_attachment(b).pk}/telecharger/",
        (),
    ),
    "avis-expert/<str:token>/": ("anonymous", lambda b: f"/avis-expert/{_expert_token(b)}/", ()),
    "avis-expert/<str:token>/pieces/<int:pk>/": (
        "anonymous",
        lambda b: f"/avis-expert/{_expert_token(b)}/pieces/{b.submitted.documents.first().pk}/",
        (),
    ),
    "transparence/subventions.csv": (
        "anonymous",
        lambda b: (b.granted, "/transparence/subventions.csv")[1],
        ("territoire", "dispositif"),
    ),
    "t/<slug:slug>/transparence/subventions.csv": (
        "anonymous",
        _u("/t/inconnu/transparence/subventions.csv"),
        ("dispositif",),
    ),
    # issue 15 point 4: the committee's decisions, SCDL « délibérations »
    "transparence/deliberations.csv": (
        "anonymous",
        _u("/transparence/deliberations.csv"),
        ("territoire", "dispositif"),
    ),
    "t/<slug:slug>/transparence/deliberations.csv": (
        "anonymous",
        _u("/t/inconnu/transparence/deliberations.csv"),
        ("dispositif",),
    ),
    # issue 15 point 3: the convention and notification letter of a granted request
    "dossiers/<int:pk>/demandes/<int:request_pk>/a-signer/<slug:kind>.pdf": (
        "agent",
        lambda b: f"/dossiers/{b.granted.case_id}/demandes/{b.granted.pk}/a-signer/convention.pdf",
        (),
    ),
    "dossiers/<int:pk>/demandes/<int:request_pk>/a-signer/<slug:kind>.docx": (
        "agent",
        lambda b: (
            f"/dossiers/{b.granted.case_id}/demandes/{b.granted.pk}/a-signer/notification.docx"
        ),
        (),
    ),
}
#: Placeholders of ``web.urls`` that only redirect.
ENTRY_PAGES = {"mes-dossiers/", "agent/", "financeurs/", "comite/", "transparence/"}


def web_routes() -> set[str]:
    found = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.add(prefix + str(p.pattern))

    from web import urls

    walk(urls.urlpatterns)
    return found


def test_every_web_route_has_a_form_generator():
    known = (
        set(POSTS) | set(GETS) | {STEP_ROUTE, PORTEUR_ACTION} | set(STAFF_TRANSITIONS) | ENTRY_PAGES
    )
    missing = sorted(web_routes() - known)
    assert not missing, f"web routes neither fuzzed as forms nor as GET pages: {missing}"
    assert set(get_resolver().reverse_dict)  # the URL conf loads


# ---------------------------------------------------------------- the forms


def _text_fields(fields: dict, today: str) -> dict:
    out = {}
    for key, value in fields.items():
        if value == TODAY:
            value = today
        if isinstance(value, bool):
            value = "on" if value else ""
        elif isinstance(value, list):
            value = [str(v) for v in value]
        elif value is not FILE and not isinstance(value, str):
            value = str(value)
        out[key] = value
    return out


def _staff_form(model, prefix: str, name: str, move: Move) -> Form:
    fields = {k: v for k, v in move.fields.items() if k != "confirm"}
    if "documents" in fields:
        fields["documents_other"] = "Plan de financement signé"
    if "amount" in fields:
        fields["amount"] = "3 000,00"
    if "amount_granted" in fields:
        fields["amount_granted"] = "30 000,00"
    fields["comment"] = "Saisi depuis la page."
    fields["next"] = "/agent/"
    if prefix != "dossiers":
        fields["from"] = "funders"
    return Form(
        move.actor,
        lambda b: f"/{prefix}/{getattr(b, move.subject).pk}/transitions/{name}/",
        lambda b: dict(fields),
    )


def _porteur_form(model, name: str, move: Move) -> Form:
    def url(b: Bench) -> str:
        subject = getattr(b, move.subject)
        case_id = {
            Case: lambda: subject.pk,
            FundingRequest: lambda: subject.case_id,
            PaymentClaim: lambda: subject.funding_request.case_id,
        }[model]()
        return f"/mes-dossiers/{case_id}/action/"

    def fields(b: Bench) -> dict:
        subject = getattr(b, move.subject)
        target = {Case: "", FundingRequest: "request", PaymentClaim: "claim"}[model]
        out = {"transition": name, "target": f"{target}:{subject.pk}" if target else ""}
        out.update({k: v for k, v in move.fields.items() if k in ("date", "reason")})
        return out

    return Form("porteur", url, fields)


def forms():
    for route, form in sorted(POSTS.items()):
        yield pytest.param(form, id=route)
    for step, fields in STEPS.items():
        yield pytest.param(
            Form("porteur", _u(f"/dossiers/{{pk}}/etapes/{step}/", "draft"), fields),
            id=f"étape {step}",
        )
    staff = {model: prefix for model, prefix in STAFF_TRANSITIONS.values()}
    for (model, name), move in sorted(
        TRANSITIONS.items(), key=lambda t: (t[0][0].__name__, t[0][1])
    ):
        if model is CommitteeSession:
            continue  # the committee's close has its own page (POSTS)
        if move.actor == "porteur":
            if name == "submit":
                continue  # the wizard's last step (STEPS)
            yield pytest.param(
                _porteur_form(model, name, move), id=f"porteur {model.__name__}.{name}"
            )
        else:
            yield pytest.param(
                _staff_form(model, staff[model], name, move), id=f"page {model.__name__}.{name}"
            )


def test_every_transition_a_page_offers_is_fuzzed():
    """Each transition a user applies has a form above (from TRANSITIONS, itself checked
    against the engine's registry by the API fuzzer)."""
    ids = {p.id for p in forms()}
    for (model, name), move in TRANSITIONS.items():
        if model is CommitteeSession or (move.actor == "porteur" and name == "submit"):
            continue
        who = "porteur" if move.actor == "porteur" else "page"
        assert f"{who} {model.__name__}.{name}" in ids
    assert registration_for(Case).specs


# ---------------------------------------------------------------- mutations


@st.composite
def form_mutations(draw, fields: dict):
    names = [k for k in fields if not k.startswith("_")]
    lists = [k for k in names if isinstance(fields[k], list)]
    kinds = ["field", "field", "field", "field", "drop", "extra", "path"] + (
        ["item"] if lists else []
    )
    kind = draw(st.sampled_from(kinds if names else ["extra", "path"]))
    if kind in ("field", "drop"):
        return (kind, draw(st.sampled_from(names)), draw(hostile_text))
    if kind == "item":
        return (kind, draw(st.sampled_from(lists)), draw(hostile_text))
    if kind == "extra":
        key = draw(st.sampled_from(["state", "amount_paid", "role", "transition", "x" * 300]))
        return (kind, key, draw(hostile_text))
    return (kind, "", draw(st.sampled_from(["0", "99999999999999999999999", "9" * 100])))


def apply(fields: dict, mutation) -> tuple[dict, str | None]:
    kind, name, value = mutation
    data = {k: (pdf() if v is FILE else v) for k, v in fields.items() if not k.startswith("_")}
    if kind == "field":
        data[name] = value
    elif kind == "drop":
        data.pop(name, None)
    elif kind == "item":
        data[name] = [*data[name], value]
    elif kind == "extra":
        data[name] = value
    return data, (value if kind == "path" else None)


def _client(bench: Bench, actor: str) -> Client:
    client = Client()
    user = bench.user(actor)
    if user is not None:
        client.force_login(user)
    return client


def _swap_id(url: str, value: str) -> str:
    parts = url.split("/")
    for i, part in enumerate(parts):
        if part.isdigit():
            parts[i] = value
            break
    return "/".join(parts)


def verdict(response, elapsed: float, before: dict, label: str, accepted=(301, 302, 303)):
    assert response.status_code < 500, f"{response.status_code} for {label}"
    assert elapsed < BOUND, f"{elapsed:.2f} s for {label}"
    after = everything()
    if response.status_code in accepted:
        bad = insane_values(after)
        assert not bad, f"accepted {label} and stored: {bad}"
        return
    diff = changes(before, after)
    assert not diff, f"refused ({response.status_code}) yet changed, {label}: {diff}"
    content = b"".join(response) if response.streaming else response.content
    assert b"Traceback" not in content


@pytest.mark.parametrize("form", list(forms()))
def test_hostile_form_fields(form):
    bench = Bench()
    url = form.url(bench)
    base = _text_fields(form.fields(bench), bench.today.isoformat())
    client = _client(bench, form.actor)
    before = everything()

    @FUZZ
    @given(mutation=form_mutations(base))
    def run(mutation):
        path_id = apply(base, mutation)[1]
        target = _swap_id(url, path_id) if path_id else url
        label = f"{mutation[0]} {mutation[1][:40]!r} = {mutation[2][:80]!r}"
        try:
            with transaction.atomic():
                response, elapsed = timed(lambda: client.post(target, apply(base, mutation)[0]))
                verdict(response, elapsed, before, label, form.accepted)
                raise Rollback
        except Rollback:
            pass

    run()


# ---------------------------------------------------------------- GET pages


@pytest.mark.parametrize("route", sorted(GETS))
def test_hostile_query_strings(route):
    actor, url_of, params = GETS[route]
    bench = Bench()
    bench.submitted.documents.exists()  # objects the pages show
    url = url_of(bench)
    client = _client(bench, actor)
    before = everything()
    names = list(params) or ["x"]

    # a PDF costs a second of rendering whatever the query string: fewer examples for it
    examples = max(3, EXAMPLES // 8) if route.endswith(".pdf") else max(5, EXAMPLES // 3)

    @settings(FUZZ, max_examples=examples)
    @given(
        name=st.sampled_from(names),
        value=st.one_of(st.sampled_from(TEXT_KILLERS), hostile_text),
    )
    def run(name, value):
        response, elapsed = timed(lambda: client.get(url, {name: value}))
        label = f"GET {url}?{name}={value[:80]!r}"
        assert response.status_code < 500, f"{response.status_code} for {label}"
        assert elapsed < BOUND, f"{elapsed:.2f} s for {label}"
        if response.streaming:
            b"".join(response)

    run()
    diff = [d for d in changes(before, everything()) if not d.startswith("engine.AccessLog")]
    assert not diff, diff


ISSUE_12_FORMS = [
    "comite/seances/<int:pk>/grille/votes/",
    "comite/seances/<int:pk>/grille/presences/",
    "traitement-groupe/",
    "dossiers/<int:pk>/etapes/<slug:step>/brouillon/",
    "dossiers/<int:pk>/corrections/",
    "dossiers/<int:pk>/corrections/<int:cid>/fermer/",
    "mes-dossiers/<int:pk>/corrections/<int:cid>/",
    "dossiers/<int:pk>/experts/inviter/",
    "avis-expert/<str:token>/",
    "notifications/<int:pk>/lue/",
    "notifications/tout-lu/",
]


@pytest.mark.parametrize("route", ISSUE_12_FORMS)
def test_the_well_formed_issue_12_forms_are_accepted(route):
    """The fuzzer's base forms reach the service: unmutated, each one is accepted (so a
    hostile field is refused by the rules, not by a form that never worked)."""
    form = POSTS[route]
    bench = Bench()
    url = form.url(bench)
    data, _ = apply(_text_fields(form.fields(bench), bench.today.isoformat()), ("extra", "", ""))
    data.pop("", None)
    response = _client(bench, form.actor).post(url, data)
    if route == "traitement-groupe/":  # the check page (step « verifier »): nothing written
        assert response.status_code == 200, response.content.decode()[:500]
        assert b"30 000,00" in response.content.replace("\u202f".encode(), b" ")
        return
    assert response.status_code in form.accepted, (route, response.status_code)


def test_the_issue_12_pages_answer_the_right_user_and_refuse_the_others():
    """The dossier's PDFs, a message's attachment, the CSV of the grants, the grid, the
    corrections, the notifications and the expert's link: read by who may, a 403, 404
    or 410 for anyone else (another porteur, a committee member, a wrong or spent token),
    and nothing written by a refusal."""
    from cases.services.experts import expert_answer
    from tests import factories as f

    bench = Bench()
    token, attachment = _expert_token(bench), _attachment(bench)
    fr, session, correction = bench.granted, bench.session, _open_correction(bench)
    porteur, agent, member = (_client(bench, r) for r in ("porteur", "agent", "member"))
    stranger, anonymous = Client(), Client()
    stranger.force_login(f.porteur())
    own_doc = bench.submitted.documents.first().pk
    other_doc = bench.incomplete.documents.first().pk
    right = [
        (porteur, f"/dossiers/{bench.submitted.pk}/dossier.pdf", "application/pdf"),
        (agent, f"/dossiers/{bench.submitted.pk}/dossier.pdf", "application/pdf"),
        (porteur, f"/dossiers/{fr.case_id}/demandes/{fr.pk}/decision.pdf", "application/pdf"),
        (porteur, f"/pieces-jointes/{attachment.pk}/telecharger/", "application/pdf"),
        (agent, f"/pieces-jointes/{attachment.pk}/telecharger/", "application/pdf"),
        (anonymous, "/transparence/subventions.csv", "text/csv"),
        (anonymous, f"/avis-expert/{token}/", "text/html"),
        (anonymous, f"/avis-expert/{token}/pieces/{own_doc}/", "application/pdf"),
        (agent, f"/comite/seances/{session.pk}/grille/", "text/html"),
        (porteur, "/notifications/", "text/html"),
    ]
    for client, url, ctype in right:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Type"].startswith(ctype), (url, response["Content-Type"])
        b"".join(response) if response.streaming else response.content
    notification = bench.notification
    before = everything()
    wrong = [
        (stranger, "get", f"/dossiers/{bench.submitted.pk}/dossier.pdf", {404}),
        (stranger, "get", f"/dossiers/{fr.case_id}/demandes/{fr.pk}/decision.pdf", {404}),
        (porteur, "get", f"/dossiers/{fr.case_id}/demandes/{fr.pk + 10**6}/decision.pdf", {404}),
        (stranger, "get", f"/pieces-jointes/{attachment.pk}/telecharger/", {404}),
        (anonymous, "get", f"/pieces-jointes/{attachment.pk}/telecharger/", {302}),
        (anonymous, "get", f"/dossiers/{bench.submitted.pk}/dossier.pdf", {302}),
        (stranger, "post", f"/notifications/{notification.pk}/lue/", {404}),
        (
            stranger,
            "post",
            f"/mes-dossiers/{bench.incomplete.pk}/corrections/{correction.pk}/",
            {404},
        ),
        (porteur, "post", f"/dossiers/{bench.incomplete.pk}/corrections/", {403, 404}),
        (
            porteur,
            "post",
            f"/dossiers/{bench.incomplete.pk}/corrections/{correction.pk}/fermer/",
            {403, 404},
        ),
        (porteur, "post", f"/dossiers/{bench.submitted.pk}/experts/inviter/", {403, 404}),
        (member, "get", f"/comite/seances/{session.pk}/grille/", {403}),
        (member, "post", f"/comite/seances/{session.pk}/grille/presences/", {403}),
        (member, "post", f"/comite/seances/{session.pk}/grille/votes/", {403}),
        (porteur, "post", "/traitement-groupe/", {404}),
        (anonymous, "get", f"/avis-expert/{token}x/", {404}),
        (anonymous, "get", f"/avis-expert/{token}/pieces/{other_doc}/", {404}),
    ]
    for client, method, url, expected in wrong:
        response = getattr(client, method)(url)
        assert response.status_code in expected, (method, url, response.status_code)
    diff = [d for d in changes(before, everything()) if not d.startswith("engine.AccessLog")]
    assert not diff, diff
    expert_answer(token=token, answer="Projet solide.")
    assert anonymous.get(f"/avis-expert/{token}/").status_code == 410
    assert anonymous.get(f"/avis-expert/{token}/pieces/{own_doc}/").status_code == 404


# ---------------------------------------------------------------- one input layer


def _arabic(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


NOT_AMOUNTS = ["١٢٣", "１２３", "²", "①", "1_000", "0x10", "1e999999999", "12\x00", "1 2 3"]


@pytest.mark.parametrize("amount", NOT_AMOUNTS)
def test_the_wizard_reads_amounts_like_the_api(amount):
    """The plan, the schemes and the claim read amounts as ``engine.inputs`` does: French
    or ASCII forms, never Unicode digits, « 1_000 » or exponents."""
    bench = Bench()
    draft, fr = bench.draft, bench.committed
    client = _client(bench, "porteur")
    before = everything()
    plan = {**_plan_form(bench), "dep-0-amount": amount}
    assert client.post(f"/dossiers/{draft.pk}/etapes/plan/", plan).status_code == 200
    schemes = {"use_DETR": "on", "amount_DETR": amount, "action": "save"}
    assert client.post(f"/dossiers/{draft.pk}/etapes/dispositifs/", schemes).status_code == 200
    claim = {"funding_request": fr.pk, "kind": "installment", "amount": amount}
    assert client.post(f"/mes-dossiers/{fr.case_id}/paiement/", claim).status_code == 400
    assert everything() == before


@pytest.mark.parametrize("amount", ["100 000,00", "100000.00", "100 000 €", "100\u202f000,00"])
def test_the_wizard_still_reads_french_amounts(amount):
    bench = Bench()
    client = _client(bench, "porteur")
    plan = {**_plan_form(bench), "dep-0-amount": amount}
    response = client.post(f"/dossiers/{bench.draft.pk}/etapes/plan/", plan)
    assert response.status_code == 302, response.content.decode()[:500]
    assert bench.draft.expenses.get().amount == 100000


@pytest.mark.parametrize(
    "day",
    ["٢٠٢٦-٠٥-٠٤", "２０２６-０５-０４", "0001-01-01", "9999-12-31", "04/05/0001", "1999-12-31"],
)
def test_the_porteur_pages_read_dates_like_the_api(day):
    bench = Bench()
    case, fr = bench.decided, bench.committed
    client = _client(bench, "porteur")
    before = everything()
    works = {"transition": "start_works", "target": "", "date": day}
    assert client.post(f"/mes-dossiers/{case.pk}/action/", works).status_code == 400
    claim = {"funding_request": fr.pk, "kind": "installment", "amount": "100", "filed_on": day}
    assert client.post(f"/mes-dossiers/{fr.case_id}/paiement/", claim).status_code == 400
    assert everything() == before


def test_an_object_named_with_unicode_digits_is_not_found():
    """« request:٤١٢ » is not request 412 (as « ?case=١ » is not dossier 1)."""
    bench = Bench()
    fr = bench.instructing
    client = _client(bench, "porteur")
    before = everything()
    for target in (f"request:{_arabic(fr.pk)}", f"request:{fr.pk}.0", "request:" + "9" * 30):
        response = client.post(
            f"/mes-dossiers/{fr.case_id}/action/",
            {"transition": "withdraw", "target": target, "reason": "Autre financement."},
        )
        assert response.status_code == 404, target
    assert everything() == before


@pytest.mark.parametrize("url", ["/connexion/", "/admin/login/"])
@pytest.mark.parametrize("username", ["é" * 1000, "a" * 256, "x" * 1_000_000])
def test_a_username_longer_than_any_is_a_failed_login(url, username):
    """Django's login forms hand a name of any length to ``authenticate``; the failure is
    counted (django-axes) under the name cut to the longest username, never a 500."""
    from axes.models import AccessAttempt

    response = Client().post(url, {"username": username, "password": "secret"})
    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == username[:150]
