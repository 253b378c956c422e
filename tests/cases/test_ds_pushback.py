"""Push-back to Démarches Simplifiées (issue 15 point 2): when a dossier imported from DS
enters instruction here, or when its funder's decision is recorded, the mutation reaches
the local DS server (validated against DS's published schema) once, with the motivation;
a DS that does not answer is tried again by the periodic pass."""

from __future__ import annotations

import pytest

from cases import builders
from cases.ds.importer import demarche_import
from cases.ds.pushback import push_send, pushes_retry
from cases.models import DsImport, DsPush
from engine.periodic import run_all
from engine.transitions import transition_apply
from tests import factories as f
from tests.cases import test_ds_import as base
from tests.cases.ds_server import INSTRUCTEUR

pytestmark = pytest.mark.django_db
ds = base.ds  # the local DS server (fixture)
demarche = base.demarche  # the démarche declared in Guichet (fixture)


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def to_instruction(case, agent) -> None:
    """The Guichet side of a dossier: deposited by its porteur, then declared complete."""
    porteur = f.porteur(organisation=case.organisation)
    builders.case_documents_add(actor=agent, case=case)
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": "2026-03-02"})
    transition_apply(
        instance=case, name="declare_complete", actor=agent, data={"date": "2026-03-10"}
    )


def funder_ready(case):
    funder = f.funder_instructor("ETAT")
    fr = case.funding_requests.get()
    transition_apply(instance=fr, name="acknowledge", actor=funder, data={"date": "2026-03-02"})
    transition_apply(
        instance=fr, name="start_instruction", actor=funder, data={"date": "2026-03-10"}
    )
    return fr, funder


def test_instruction_then_grant_reach_ds_with_the_motivation(
    ds, demarche, eager, django_capture_on_commit_callbacks
):
    demarche_import(demarche=demarche)
    row = DsImport.objects.get(ds_number=101)
    with django_capture_on_commit_callbacks(execute=True):
        to_instruction(row.case, demarche.agent)
    sent = {"dossierId": row.ds_id, "instructeurId": INSTRUCTEUR, "disableNotification": False}
    assert ds.mutations == [("dossierPasserEnInstruction", sent)]  # the schema's default
    assert ds.dossier(101)["state"] == "en_instruction"
    fr, funder = funder_ready(row.case)
    with django_capture_on_commit_callbacks(execute=True):
        transition_apply(
            instance=fr,
            name="grant",
            actor=funder,
            data={"amount_granted": "40000.00", "date": "2026-04-15"},
        )
    name, sent = ds.mutations[-1]
    assert name == "dossierAccepter" and sent["dossierId"] == row.ds_id
    assert "accordée au titre du dispositif DETR" in sent["motivation"]
    assert "15/04/2026" in sent["motivation"]
    assert ds.dossier(101)["state"] == "accepte"
    assert set(DsPush.objects.values_list("action", "status")) == {
        ("passer_en_instruction", "done"),
        ("accepter", "done"),
    }
    row.refresh_from_db()
    assert row.ds_state == "accepte"
    # idempotent: sending again, or the periodic pass, sends nothing more
    for push in DsPush.objects.all():
        push_send(push_id=push.pk)
    pushes_retry()
    assert len(ds.mutations) == 2


def test_a_refusal_sends_its_motivation(ds, demarche, eager, django_capture_on_commit_callbacks):
    demarche_import(demarche=demarche)
    row = DsImport.objects.get(ds_number=102)  # already in instruction on DS
    with django_capture_on_commit_callbacks(execute=True):
        to_instruction(row.case, demarche.agent)
    fr, funder = funder_ready(row.case)
    with django_capture_on_commit_callbacks(execute=True):
        transition_apply(
            instance=fr,
            name="refuse",
            actor=funder,
            data={"motivation": "Projet hors des priorités de la DETR 2026.", "date": "2026-04-20"},
        )
    assert [m[0] for m in ds.mutations] == ["dossierRefuser"]
    assert ds.mutations[0][1]["motivation"] == "Projet hors des priorités de la DETR 2026."
    assert ds.dossier(102)["state"] == "refuse"
    skipped = DsPush.objects.get(action="passer_en_instruction")
    assert skipped.status == "skipped" and "en_instruction" in skipped.error


def test_a_decision_rolled_back_sends_nothing(ds, demarche, eager):
    demarche_import(demarche=demarche)
    row = DsImport.objects.get(ds_number=101)
    to_instruction(row.case, demarche.agent)  # no commit in this test: nothing sent
    assert ds.mutations == [] and DsPush.objects.get().status == "pending"


def test_ds_down_then_the_periodic_pass_sends(ds, demarche, settings, eager):
    demarche_import(demarche=demarche)
    row = DsImport.objects.get(ds_number=101)
    to_instruction(row.case, demarche.agent)
    push = DsPush.objects.get()
    url = settings.GUICHET_DS_API_URL
    settings.GUICHET_DS_API_URL = "http://127.0.0.1:9/api/v2/graphql"  # nothing listens
    push = push_send(push_id=push.pk)
    assert push.status == "pending" and push.attempts == 1 and "ne répond pas" in push.error
    settings.GUICHET_DS_API_URL = url
    demarche.active = False  # the periodic job's import part is not under test here
    demarche.save()
    assert run_all(inline=True)["ds_sync"] == 0
    push.refresh_from_db()
    assert push.status == "done" and push.attempts == 2
    assert ds.mutations[0][0] == "dossierPasserEnInstruction"


def test_ds_refusing_the_mutation_is_kept_with_its_reason(ds, demarche, eager):
    demarche_import(demarche=demarche)
    row = DsImport.objects.get(ds_number=101)
    demarche.instructeur_id = "SW5jb25udQ=="
    demarche.save()
    to_instruction(row.case, demarche.agent)
    push = push_send(push_id=DsPush.objects.get().pk)
    assert push.status == "failed" and "instructeur inconnu" in push.error


def test_dossiers_not_from_ds_push_nothing(ds, demarche, eager, django_capture_on_commit_callbacks):
    agent = f.agent()
    porteur = f.porteur()
    case = builders.case_build(
        porteur=porteur,
        title="Dossier déposé dans Guichet",
        state="draft",
        plan={
            "expenses": [{"label": "Travaux", "amount": "1000.00"}],
            "resources": [
                {"kind": "scheme", "scheme": "DETR", "amount": "400.00"},
                {"kind": "self", "amount": "600.00"},
            ],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        to_instruction(case, agent)
    assert not DsPush.objects.exists() and ds.mutations == []
