"""Extensions of a works deadline (revised rule 5, issue 11) through the API: asked by the
porteur before the deadline, within the scheme's limits (DETR: start of works +1 year
once, completion up to +2 years; null: no limit), granted or refused by the funder's
instructor; a granted extension moves the deadline, a missed one opens again."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_fsm_log.models import StateLog

from cases.models import Extension
from engine.models import Deadline
from engine.sweep import sweep_expired
from schemes.models import Scheme
from tests import factories as f

from .helpers import get, post
from .test_missed_and_lapse import granted, works_start

pytestmark = pytest.mark.django_db
D = dt.date


def ask(client, fr, expected=201, **body):
    return post(client, f"/funding-requests/{fr.pk}/extensions/", body, expected)


def decide(client, ext_id, name, expected=200, **body):
    return post(client, f"/extensions/{ext_id}/transitions/{name}/", body, expected)


def test_start_of_works_extended_once_within_the_year(api):
    case, fr, porteur, agent, instructor = granted(granted="2025-03-03")
    due = works_start(fr).due_on
    assert due == D(2027, 3, 3)
    porteur_api, prefecture = api(porteur), api(instructor)
    too_far = ask(porteur_api, fr, 400, deadline="works_start", until="2028-03-10", reason="x")
    assert "12 mois au plus" in too_far["detail"] and "03/03/2028" in too_far["detail"]
    not_after = ask(porteur_api, fr, 400, deadline="works_start", until="2027-01-01", reason="x")
    assert "postérieure" in not_after["detail"]
    body = ask(porteur_api, fr, deadline="works_start", until="2028-01-15", reason="Appel d'offres")
    assert (body["deadline"], body["until"], body["state"]) == (
        "works_start",
        "2028-01-15",
        "requested",
    )
    twice = ask(porteur_api, fr, 400, deadline="works_start", until="2027-12-01", reason="y")
    assert "attend déjà" in twice["detail"]
    # only the funder's instructor decides; others do not see it
    decide(porteur_api, body["id"], "grant", 403, motivation="ok")
    decide(api(f.funder_instructor("REGION_OCC")), body["id"], "grant", 404)
    get(api(f.porteur()), f"/extensions/{body['id']}/", 404)
    granted_body = decide(prefecture, body["id"], "grant", motivation="Motif recevable.")
    assert granted_body["state"] == "granted"
    deadline = works_start(fr)
    assert (deadline.due_on, deadline.state) == (D(2028, 1, 15), "open")
    once = ask(porteur_api, fr, 400, deadline="works_start", until="2028-02-01", reason="z")
    assert "qu'une fois" in once["detail"]


def test_refusal_needs_a_motivation_and_leaves_the_deadline(api):
    case, fr, porteur, agent, instructor = granted(granted="2025-03-03")
    body = ask(api(agent), fr, deadline="works_start", until="2027-09-01", reason="Intempéries")
    missing = decide(api(instructor), body["id"], "refuse", 400)
    assert "motivation" in missing["detail"]
    refused = decide(api(instructor), body["id"], "refuse", motivation="Non justifié.")
    assert refused["state"] == "refused"
    assert works_start(fr).due_on == D(2027, 3, 3)


def test_no_limit_when_the_scheme_has_none_and_none_after_the_deadline(api):
    Scheme.objects.filter(code="DETR").update(works_start_extension_months=None)
    case, fr, porteur, agent, instructor = granted(granted="2025-03-03")
    body = ask(api(porteur), fr, deadline="works_start", until="2030-06-28", reason="Avenant")
    decide(api(instructor), body["id"], "grant")
    again = ask(api(porteur), fr, deadline="works_start", until="2031-01-06", reason="Avenant 2")
    assert again["state"] == "requested"
    late_case, late_fr, late_porteur, _, _ = granted()
    sweep_expired(today=D(2026, 6, 4))
    late = ask(
        api(late_porteur), late_fr, 400, deadline="works_start", until="2027-01-04", reason="x"
    )
    assert "dépassée" in late["detail"]
    none = ask(
        api(late_porteur), late_fr, 400, deadline="works_completion", until="2030-01-07", reason="x"
    )
    assert "Aucune échéance" in none["detail"]
    bad = ask(api(porteur), fr, 400, deadline="fin", until="2030-01-07", reason="x")
    assert bad["errors"]["deadline"]


def test_a_missed_deadline_extended_in_time_opens_again(api):
    case, fr, porteur, agent, instructor = granted(granted="2025-03-03")
    body = ask(api(porteur), fr, deadline="works_start", until="2027-06-01", reason="Retard")
    Deadline.objects.filter(pk=works_start(fr).pk).update(due_on=D(2026, 10, 5))
    sweep_expired()
    assert works_start(fr).state == "missed"
    decide(api(instructor), body["id"], "grant", motivation="Demandée à temps.")
    deadline = works_start(fr)
    assert (deadline.state, deadline.due_on, deadline.closed_at) == ("open", D(2027, 6, 1), None)
    lapse = post(
        api(instructor),
        f"/funding-requests/{fr.pk}/transitions/lapse/",
        {"date": "2026-11-30", "motivation": "x"},
        400,
    )
    assert "dépassée" in lapse["detail"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_grants_of_one_extension_at_once_apply_once(api):
    case, fr, porteur, agent, instructor = granted(granted="2025-03-03")
    body = ask(api(porteur), fr, deadline="works_start", until="2027-09-01", reason="Retard")
    clients = [api(instructor), api(instructor)]
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i):
        try:
            barrier.wait(timeout=30)
            response = clients[i].post(
                f"/api/v1/extensions/{body['id']}/transitions/grant/",
                {"motivation": "ok"},
                format="json",
            )
            results[i] = response.status_code
        except Exception as exc:  # noqa: BLE001 - reported below
            results[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results) in ([200, 400], [200, 409]), results
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Extension),
        object_id=body["id"],
        transition="grant",
    )
    assert logs.count() == 1
    assert works_start(fr).due_on == D(2027, 9, 1)
